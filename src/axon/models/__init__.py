"""Models, one per file, each readable top to bottom with a ``Config`` dataclass.

Each family of models lives in its own file; this module gathers their public
names. (Sections are filled in by the engineers who own each file.)
"""

# --- vision and encoders: mlp, lenet, resnet, bert, pretrained (models-vision) ---
from axon.models.bert import BertConfig, BertForSequenceClassification, BertModel
from axon.models.lenet import LeNet, LeNetConfig
from axon.models.mlp import MLP, MLPConfig
from axon.models.pretrained import SentenceEmbedder, load_bert, minilm_path
from axon.models.resnet import ResNet, ResNetConfig

# --- language and sequence models: gpt, seq2seq, recurrent (models-lm) ---
# isort: split
from axon.models.gpt import GPT, GPTConfig, gpt2_config
from axon.models.recurrent import CharLSTM, CharLSTMConfig, GRUClassifier, GRUClassifierConfig
from axon.models.seq2seq import Seq2Seq, Seq2SeqConfig
