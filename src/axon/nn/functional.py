"""Stateless forms of the layers: ``axon.nn.functional`` (imported as ``F``).

Each family's ops live beside their Function classes in ``axon.ops``; this
module gathers their public names, as ``torch.nn.functional`` does.
"""

from axon.ops.activation import elu, gelu, leaky_relu, relu, silu, softplus  # noqa: F401

# --- convolution, pooling, batch/group norm (nn-conv) ---
from axon.ops.adaptive_pool import adaptive_avg_pool1d, adaptive_avg_pool2d  # noqa: F401

# --- recurrent, attention (nn-seq) ---
from axon.ops.attention import apply_rotary, scaled_dot_product_attention  # noqa: F401
from axon.ops.batchnorm import batch_norm, group_norm  # noqa: F401
from axon.ops.conv import conv1d, conv2d, conv_transpose2d  # noqa: F401

# --- core layers: dropout, embedding, layer/RMS norm, losses (nn-core) ---
from axon.ops.dropout import dropout, dropout2d  # noqa: F401
from axon.ops.elementwise import sigmoid, tanh  # noqa: F401
from axon.ops.embedding import embedding  # noqa: F401
from axon.ops.linalg import linear  # noqa: F401
from axon.ops.loss import (  # noqa: F401
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cosine_similarity,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from axon.ops.movement import one_hot, pad  # noqa: F401
from axon.ops.nn import log_softmax, softmax  # noqa: F401
from axon.ops.norm import layer_norm, rms_norm  # noqa: F401
from axon.ops.pool import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d  # noqa: F401
