"""Theano's other spelling of the random streams: ``T.shared_randomstreams.RandomStreams``."""
from .random import RandomStreams

__all__ = ["RandomStreams"]
