"""`python modules_at_exit.py ARGS…` runs `dreamface ARGS…` as if torch, safetensors and
transformers were not installed (the chat side's install: no `worker` extra), and, as it exits,
writes the names of any model code it imported to $MODULES_REPORT: how a test proves that a
chat process neither needs nor loads a model."""

import atexit
import importlib.abc
import os
import sys
from pathlib import Path

WORKER_ONLY = ("torch", "safetensors", "transformers")   # pyproject's `worker` extra
MODEL_CODE = WORKER_ONLY + ("facegen.stylegan.backend", "facegen.stylegan.loaders", "facegen.stylegan.networks")


class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in WORKER_ONLY:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def report() -> None:
    loaded = sorted(name for name in sys.modules if name.startswith(MODEL_CODE))
    Path(os.environ["MODULES_REPORT"]).write_text("\n".join(loaded))


sys.meta_path.insert(0, NotInstalled())
atexit.register(report)

if __name__ == "__main__":
    from dreamface.cli import main
    sys.exit(main(sys.argv[1:]))
