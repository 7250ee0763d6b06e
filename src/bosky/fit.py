"""Making an event fit EventBridge's 256 KiB: what bosky filled in gives way, the user's
words do not.

A boot whose cloud-init error holds a command's whole output, or a step run as
`bash -c "$SCRIPT"`, can make an event over the limit from fields bosky itself
filled (Errors, Stages, Command, ...).  Such an event is still sent: those
fields are cut, longest strings and lists first, each cut marked, until the
entry fits with room for the output tail, whose longest end that fits is then
kept.  Only the user's own message or --detail values can make an event too
big to send.
"""

from bosky.events import MAX_ENTRY_BYTES, entry_size

# Fields bosky fills from what it observed; cut (never dropped) when an event is too big.
OWN_FIELDS = ("Command", "Errors", "Stages", "Datasource", "Steps", "InitTried", "Bundle",
              "Vars", "CloudInitStatus")
TAIL_ROOM = 16 * 1024  # bytes of output tail the other fields make room for
CUT_MARK = "...[{} characters cut]"


def fit_entry(make_entry, fields, tail, limit=MAX_ENTRY_BYTES):
    """The entry make_entry(tail) builds from `fields` (changed in place), cut to fit.

    make_entry(None) builds it without an output tail; the tail is fitted last.
    """
    empty = None if tail is None else ""
    room = limit - (min(len(tail.encode("utf-8", "replace")), TAIL_ROOM) if tail else 0)
    cap = 1 << 16
    while entry_size(make_entry(empty)) > room and cap >= 16:
        for name in OWN_FIELDS:
            if name in fields:
                fields[name] = cut(fields[name], cap)
        cap //= 4
    return make_entry(None) if tail is None else fit_output_tail(make_entry, tail, limit)


def cut(value, cap):
    """`value` with every string over `cap` characters and every list over cap // 64
    items (at least 4) shortened, each cut marked."""
    if isinstance(value, str) and len(value) > cap:
        return value[:cap] + CUT_MARK.format(len(value) - cap)
    if isinstance(value, dict):
        return {key: cut(item, cap) for key, item in value.items()}
    if isinstance(value, list):
        keep = max(4, cap // 64)
        items = [cut(item, cap) for item in value[:keep]]
        if len(value) > keep:
            items.append(CUT_MARK.format(len(value) - keep).replace("characters", "items"))
        return items
    return value


def fit_output_tail(make_entry, tail, limit=MAX_ENTRY_BYTES):
    """The entry built by make_entry(text) with the longest end of `tail` that fits.

    JSON escaping makes the encoded size depend on the text, so the fit is
    measured on the real entry (binary search on how many characters to keep).
    """
    entry = make_entry(tail)
    if entry_size(entry) <= limit:
        return entry
    low, high = 0, len(tail)  # keep tail[-n:]; find the largest n that fits
    while low < high:
        middle = (low + high + 1) // 2
        if entry_size(make_entry(tail[len(tail) - middle:])) <= limit:
            low = middle
        else:
            high = middle - 1
    return make_entry(tail[len(tail) - low:] if low else "")
