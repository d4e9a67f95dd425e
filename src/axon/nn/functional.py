"""Stateless forms of the layers: ``axon.nn.functional`` (imported as ``F``).

Each family's ops live beside their Function classes in ``axon.ops``; this
module gathers their public names, as ``torch.nn.functional`` does.
"""

from axon.ops.activation import elu, gelu, leaky_relu, relu, silu, softplus  # noqa: F401
from axon.ops.elementwise import sigmoid, tanh  # noqa: F401
from axon.ops.linalg import linear  # noqa: F401
from axon.ops.movement import one_hot, pad  # noqa: F401
from axon.ops.nn import log_softmax, softmax  # noqa: F401

# --- core layers: dropout, embedding, layer/RMS norm, losses (nn-core) ---

# --- convolution, pooling, batch/group norm (nn-conv) ---

# --- recurrent, attention (nn-seq) ---
