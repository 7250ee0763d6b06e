"""bosky: report an EC2 boot script's outcome to Amazon EventBridge.

The package is a pipeline: settings -> identity -> credentials -> event ->
signed request -> delivery -> result.  `cli` wires it together; every other
module owns one step and stays importable without the network stack.
"""

__version__ = "0.1.0"
