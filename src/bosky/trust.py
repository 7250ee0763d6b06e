"""Which CAs a TLS connection trusts, and what a verification failure looks like.

AWS_CA_BUNDLE (or a profile's ca_bundle) when configured; else a hashed CA
directory first, read lazily (loading the system's CA file costs OpenSSL 3
some 50-70 ms, more than the rest of an emit), then OpenSSL's whole default.
"""

import ssl
from urllib.error import URLError

CERTIFICATE_HINT = ("if your network inspects TLS, set AWS_CA_BUNDLE (or the profile's "
                    "ca_bundle) to its CA certificate in PEM form")


def trust_for(ca_bundle, env, failed=()):
    """The trust to try first: {"cafile": the configured bundle}, else {"capath": a hashed
    CA directory}, else {} (OpenSSL's default: its CA file and its CA directory).

    Loading the system's CA file costs OpenSSL 3 some 50-70 ms (it parses every
    certificate in it), more than the rest of an emit.  A hashed CA directory
    (Debian and Ubuntu keep one) is read lazily, one certificate per lookup, and
    trusts at most what the default trusts, so it is tried first; a server it
    cannot verify gets one more try with the default (`failed` remembers it).
    """
    if ca_bundle:
        return {"cafile": ca_bundle}
    paths = ssl.get_default_verify_paths()
    check_openssl_env(env, paths)
    directory = env.get(paths.openssl_capath_env) or paths.openssl_capath
    if directory in failed or not _is_hashed_directory(directory):
        return {}
    return {"capath": directory}


def check_openssl_env(env, paths):
    """SSL_CERT_FILE and SSL_CERT_DIR, which OpenSSL reads itself: a FIFO there would block
    it past every deadline, so each must be a regular file or a directory (or unset)."""
    import os
    import stat
    from bosky import errors
    for name, wanted, test in ((paths.openssl_cafile_env, "a PEM file", stat.S_ISREG),
                               (paths.openssl_capath_env, "a directory", stat.S_ISDIR)):
        value = env.get(name)
        if not value:
            continue
        try:
            usable = test(os.stat(value).st_mode)
        except OSError:
            continue  # missing: OpenSSL finds nothing there, and says so at verification
        if not usable:
            raise errors.ValidationError(reason="{} names {}, which is not {}; unset it or "
                                                "point it at one".format(name, value[:200],
                                                                         wanted))


def _is_hashed_directory(path):
    """True when `path` holds OpenSSL subject-hash names (c_rehash's 1a2b3c4d.0)."""
    import os
    try:
        names = os.listdir(path)
    except (OSError, TypeError):
        return False
    return any(len(n) >= 10 and n[8] == "." and n[9:].isdigit() and
               all(c in "0123456789abcdef" for c in n[:8]) for n in names)


def is_certificate_failure(exc):
    """A TLS verification failure: retrying cannot fix it, trusting the right CA can."""
    exc = getattr(exc, "reason", exc) if isinstance(exc, URLError) else exc
    return isinstance(exc, ssl.CertificateError) or (
        isinstance(exc, ssl.SSLError) and "CERTIFICATE_VERIFY_FAILED" in str(exc))
