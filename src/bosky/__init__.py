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
