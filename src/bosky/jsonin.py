"""JSON from outside bosky (replies, IMDS, credential helpers, spool records, cloud-init's
files), read strictly: one function, so every reader fails the same way.

Python's json reads NaN and Infinity, turns 1e999 into inf (int() of it raises
OverflowError) and recurses into nesting (RecursionError).  Here all of those,
and bytes that are not UTF-8, are ValueError, which each caller already turns
into its own clear line; and a number that cannot be in a real document never
reaches the event bosky sends (EventBridge refuses NaN as MalformedDetail).
"""

import json
import math


def _refuse_constant(name):
    raise ValueError("{} is not a JSON number".format(name))


def _finite(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("the number {}... is out of range".format(text[:20]))
    return value


def loads(data):
    """The document in `data` (bytes or text); ValueError for anything but strict JSON."""
    try:
        text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite)
    except RecursionError:
        raise ValueError("nested too deeply")
