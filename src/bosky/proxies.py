"""Which proxy a request goes through: the environment's HTTP(S)_PROXY and NO_PROXY,
as urllib and the AWS CLI read them, each URL checked (exit 2 for one bosky cannot use)
and its password registered so that no message ever shows it.  Pure: the env is passed in.
"""

from urllib.parse import urlsplit

from bosky import errors, urls


def proxy_for(url, env):
    """The proxy URL for `url` from the env mapping, or None.

    Lower-case variables win over upper-case ones (as urllib and the AWS CLI
    docs have it); NO_PROXY holds host suffixes, host:port, or `*`.
    """
    parts = urlsplit(url)
    variable = "{}_proxy".format(parts.scheme)
    proxy = env.get(variable) or env.get(variable.upper())
    if not proxy:
        return None
    no_proxy = env.get("no_proxy", env.get("NO_PROXY", ""))
    host = (parts.hostname or "").lower()
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return None
        name, _, port = entry.partition(":")
        if port and str(parts.port or "") != port:
            continue
        name = name.lstrip(".")
        if host == name or host.endswith("." + name):
            return None
    return check_proxy(proxy, parts.scheme)


def check_proxy(proxy, scheme):
    """The proxy URL, as http://...; ValidationError for one bosky cannot use."""
    full = proxy if "://" in proxy else "http://" + proxy
    parts = urls.split_url(full)
    if parts is None or parts.scheme != "http" or parts.path not in ("", "/"):
        raise errors.ValidationError(
            reason="the proxy {!r} from {}_PROXY (or {}_proxy) is not a proxy URL: expected "
                   "http://[user:password@]host:port".format(urls.shown(proxy), scheme.upper(),
                                                             scheme))
    if parts.password:  # a proxy that echoes Proxy-Authorization must not get it printed
        import base64
        from urllib.parse import unquote
        user, password = unquote(parts.username or ""), unquote(parts.password)
        errors.never_show(password, parts.password, base64.b64encode("{}:{}".format(
            user, password).encode("utf-8")).decode("ascii"))
    return full
