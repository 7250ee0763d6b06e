"""bosky: report an EC2 boot script's outcome to Amazon EventBridge.

The package is a pipeline: settings -> identity -> credentials -> event ->
signed request -> delivery -> result.  `cli` wires it together; every other
module owns one step and stays importable without the network stack.
"""

BASE_VERSION = "0.1.0"

try:  # the built .pyz carries the exact version (git describe) in _version.py
    from bosky._version import VERSION as __version__
except ImportError:  # running from the source tree
    __version__ = BASE_VERSION


def loaded_from():
    """Where this run's code came from: the .pyz's bytecode for this Python, or source.

    The .pyz's __main__ installs a loader named Bytecode when it carries
    bytecode for the running interpreter; anything else compiled the source.
    """
    import sys
    if type(globals().get("__loader__")).__name__ == "Bytecode":
        return "bytecode for " + sys.implementation.cache_tag
    return "source"
