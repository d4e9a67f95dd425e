"""Neural-network building blocks: Module, Parameter, containers, layers, losses.

Each family of layers lives in its own file; this module gathers their public
names (``nn.Linear``, ``nn.Conv2d``, ``nn.LSTM`` ...), as ``torch.nn`` does.
"""

from axon.nn import functional, init
from axon.nn.containers import ModuleDict, ModuleList, Sequential
from axon.nn.linear import Flatten, Identity, Linear, Unflatten
from axon.nn.module import Module
from axon.nn.parameter import Parameter

# --- core layers: activations, dropout, embedding, layer/RMS norm, losses (nn-core) ---
from axon.nn import utils
from axon.nn.activation import (
    ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh,
)
from axon.nn.dropout import Dropout, Dropout2d
from axon.nn.embedding import Embedding
from axon.nn.loss import (
    BCELoss, BCEWithLogitsLoss, CosineSimilarity, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss,
    MSELoss, NLLLoss, SmoothL1Loss,
)
from axon.nn.normalization import LayerNorm, RMSNorm

# --- convolution, pooling, batch/group norm (nn-conv) ---
from axon.nn.batchnorm import BatchNorm1d, BatchNorm2d, GroupNorm
from axon.nn.conv import Conv1d, Conv2d, ConvTranspose2d
from axon.nn.pooling import (
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d,
)

# --- recurrent, attention, transformer, positional encodings (nn-seq) ---
from axon.nn.attention import KVCache, MultiheadAttention  # noqa: E402
from axon.nn.positional import (  # noqa: E402
    LearnedPositionalEmbedding, RotaryEmbedding, SinusoidalPositionalEncoding,
)
from axon.nn.recurrent import GRU, LSTM, RNN  # noqa: E402
from axon.nn.rnn_cells import GRUCell, LSTMCell, RNNCell  # noqa: E402
from axon.nn.transformer import (  # noqa: E402
    Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer,
)
