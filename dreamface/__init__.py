"""dreamface: build a face by chatting. This package holds configuration and the CLI;
the chat side lives in `bot`, inference in `facegen`, persistence in `storage`."""

__version__ = "0.1.0"
