"""A throwaway CA and a server certificate it signed for 127.0.0.1, made with `openssl`.

For the TLS stand-ins in the tests and the HTTPS runs of bench/startup.py.
"""

import os
import subprocess

CA_EXTENSIONS = ("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
                 "subjectKeyIdentifier=hash\n")
LEAF_EXTENSIONS = ("subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n"
                   "keyUsage=critical,digitalSignature,keyEncipherment\n"
                   "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\n"
                   "authorityKeyIdentifier=keyid\n")


def _openssl(directory, *args):
    subprocess.check_call(["openssl"] + list(args), cwd=directory, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)


def make_certificates(directory):
    """{"ca.pem", "server.pem", "server.key": path} in `directory` (openssl must be installed)."""
    with open(os.path.join(directory, "ca.ext"), "w") as handle:
        handle.write(CA_EXTENSIONS)
    with open(os.path.join(directory, "leaf.ext"), "w") as handle:
        handle.write(LEAF_EXTENSIONS)
    _openssl(directory, "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
             "-out", "ca.csr", "-subj", "/CN=bosky test CA")
    _openssl(directory, "x509", "-req", "-in", "ca.csr", "-signkey", "ca.key", "-out", "ca.pem",
             "-days", "2", "-extfile", "ca.ext")
    _openssl(directory, "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key",
             "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    _openssl(directory, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "leaf.ext")
    return {name: os.path.join(directory, name) for name in ("ca.pem", "server.pem",
                                                              "server.key")}


def hashed_directory(directory, pem):
    """`directory` holding `pem` under its OpenSSL subject-hash name, as c_rehash leaves it."""
    subject_hash = subprocess.check_output(["openssl", "x509", "-hash", "-noout", "-in", pem])
    os.makedirs(directory)
    with open(pem, "rb") as source, open(os.path.join(
            directory, subject_hash.decode().strip() + ".0"), "wb") as target:
        target.write(source.read())
    return directory
