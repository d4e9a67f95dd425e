"""Neural-network building blocks: Module, Parameter, containers, layers, losses.

Each family of layers lives in its own file; this module gathers their public
names (``nn.Linear``, ``nn.Conv2d``, ``nn.LSTM`` ...), as ``torch.nn`` does.
"""

# --- core layers: activations, dropout, embedding, layer/RMS norm, losses (nn-core) ---
from axon.nn import functional, init, utils
from axon.nn.activation import (
    ELU,
    GELU,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)

# --- recurrent, attention, transformer, positional encodings (nn-seq) ---
from axon.nn.attention import KVCache, MultiheadAttention

# --- convolution, pooling, batch/group norm (nn-conv) ---
from axon.nn.batchnorm import BatchNorm1d, BatchNorm2d, GroupNorm
from axon.nn.containers import ModuleDict, ModuleList, Sequential
from axon.nn.conv import Conv1d, Conv2d, ConvTranspose2d
from axon.nn.dropout import Dropout, Dropout2d
from axon.nn.embedding import Embedding
from axon.nn.linear import Flatten, Identity, Linear, Unflatten
from axon.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CosineSimilarity,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from axon.nn.module import Module
from axon.nn.normalization import LayerNorm, RMSNorm
from axon.nn.parameter import Parameter
from axon.nn.pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
)
from axon.nn.positional import (
    LearnedPositionalEmbedding,
    RotaryEmbedding,
    SinusoidalPositionalEncoding,
)
from axon.nn.recurrent import GRU, LSTM, RNN
from axon.nn.rnn_cells import GRUCell, LSTMCell, RNNCell
from axon.nn.transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
