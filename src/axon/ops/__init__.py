"""Primitive ops, one ``Function`` class each, grouped by family.

The functional forms (``axon.exp``, ``axon.cat``, ...) are re-exported from
``axon``; Tensor methods route to the same functions.
"""
