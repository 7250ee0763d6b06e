"""Private CAs and proxies: TLS against a throwaway CA, a dead proxy, IMDS never proxied."""

import os
import shutil

import pytest

import standins
from conftest import base_env, one_line, run_pyz
from test_e2e import ENV_KEYS, INSTANCE

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")

def send(pyz, bridge, *args, **env):
    merged = dict(ENV_KEYS, AWS_ENDPOINT_URL_EVENTBRIDGE=bridge.url, AWS_REGION="us-east-1")
    merged.update(env)
    return run_pyz(pyz, ["--pass", "tls", "--instance-id", INSTANCE] + list(args),
                   base_env(**merged))


def test_private_ca_from_aws_ca_bundle_is_trusted(pyz, tls_bridge, certificates):
    result = send(pyz, tls_bridge, AWS_CA_BUNDLE=certificates["ca.pem"])
    assert result.returncode == 0, result.stderr
    assert len(tls_bridge.accepted) == 1


def test_private_ca_from_the_profile_ca_bundle_is_trusted(pyz, tls_bridge, certificates,
                                                          tmp_path):
    config = tmp_path / "config"
    config.write_text("[default]\nca_bundle = {}\n".format(certificates["ca.pem"]))
    result = send(pyz, tls_bridge, AWS_CONFIG_FILE=str(config))
    assert result.returncode == 0, result.stderr


def test_a_hashed_ca_directory_is_trusted_without_loading_the_ca_file(pyz, tls_bridge,
                                                                      certificates, tmp_path):
    # The file OpenSSL would load by default does not exist: only the directory can verify.
    directory = standins.hashed_directory(str(tmp_path / "certs"), certificates["ca.pem"])
    result = send(pyz, tls_bridge, "--debug", SSL_CERT_DIR=directory,
                  SSL_CERT_FILE=str(tmp_path / "absent.pem"))
    assert result.returncode == 0, result.stderr
    assert "with the CAs in {}, read as needed".format(directory) in result.stderr.decode()
    assert "trying the default trust store" not in result.stderr.decode()


def test_a_ca_only_in_the_ca_file_is_still_trusted(pyz, tls_bridge, certificates, tmp_path):
    # A hashed directory without the CA (the server's own certificate is no CA), the CA
    # appended to the file only: the directory fails, the default trust store verifies.
    directory = standins.hashed_directory(str(tmp_path / "certs"), certificates["server.pem"])
    result = send(pyz, tls_bridge, "--debug", SSL_CERT_DIR=directory,
                  SSL_CERT_FILE=certificates["ca.pem"])
    assert result.returncode == 0, result.stderr
    assert "no CA in {} verifies 127.0.0.1; trying the default trust store".format(
        directory) in result.stderr.decode()
    assert len(tls_bridge.accepted) == 1


def test_untrusted_certificate_fails_at_once_and_names_the_fix(pyz, tls_bridge):
    result = send(pyz, tls_bridge, "--timeout", "10")
    assert result.returncode == 1
    line = one_line(result)
    assert "certificate verification failed" in line and "AWS_CA_BUNDLE" in line
    assert tls_bridge.accepted == []  # and it was not retried until the deadline


def test_a_certificate_for_another_name_fails_at_once_under_every_python(pyz, tls_bridge,
                                                                          certificates):
    """The certificate is for 127.0.0.1, the URL says localhost.  3.6 raised the mismatch as
    a ValueError, which read as an unreadable reply and was retried until the deadline."""
    from test_compat import OLDEST_AND_NEWEST
    url = tls_bridge.url.replace("127.0.0.1", "localhost")
    env = base_env(**dict(ENV_KEYS, AWS_ENDPOINT_URL_EVENTBRIDGE=url, AWS_REGION="us-east-1",
                          AWS_CA_BUNDLE=certificates["ca.pem"]))
    for python in OLDEST_AND_NEWEST:
        result = run_pyz(pyz, ["--pass", "tls", "--instance-id", INSTANCE, "--timeout", "10"],
                         env, python=python)
        assert result.returncode == 1, (python, result.stderr)
        assert "certificate verification failed" in one_line(result), python
    assert tls_bridge.accepted == []


def test_a_missing_ca_bundle_file_is_a_usage_error(pyz, tls_bridge):
    result = send(pyz, tls_bridge, AWS_CA_BUNDLE="/nonexistent/ca.pem")
    assert result.returncode == 2 and "/nonexistent/ca.pem" in one_line(result)


def test_a_dead_proxy_fails_aws_calls_but_imds_goes_direct(pyz, eventbridge, imds_server):
    env = base_env(imds_server.url, AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url,
                   HTTP_PROXY="http://127.0.0.1:9", NO_PROXY=None)
    env.pop("NO_PROXY")
    result = run_pyz(pyz, ["--pass", "proxied", "--no-spool", "--timeout", "1"], env)
    assert result.returncode == 1
    assert "through the proxy http://127.0.0.1:9" in one_line(result)
    assert any("identity" in r.path for r in imds_server.requests)  # IMDS answered directly
    assert eventbridge.requests == []


def test_container_credentials_never_go_through_the_proxy(pyz, eventbridge):
    container = standins.ContainerStandIn().start()
    try:
        env = base_env(AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url, AWS_REGION="us-east-1",
                       AWS_CONTAINER_CREDENTIALS_FULL_URI=container.url + "/creds",
                       HTTP_PROXY="http://127.0.0.1:9")
        env.pop("NO_PROXY")
        result = run_pyz(pyz, ["x", "--instance-id", INSTANCE, "--no-spool", "--timeout", "1"],
                         env)
    finally:
        container.stop()
    assert len(container.requests) >= 1  # reached directly...
    assert "through the proxy http://127.0.0.1:9" in one_line(result)  # ...EventBridge not


def test_https_goes_through_a_connect_proxy_with_basic_auth(pyz, tls_bridge, certificates):
    proxy = standins.ConnectProxy(auth="Basic dXNlcjpwQHNz").start()  # user:p@ss
    try:
        env = base_env(AWS_ENDPOINT_URL_EVENTBRIDGE=tls_bridge.url, AWS_REGION="us-east-1",
                       AWS_CA_BUNDLE=certificates["ca.pem"],
                       HTTPS_PROXY=proxy.url.replace("http://", "http://user:p%40ss@"),
                       **ENV_KEYS)
        env.pop("NO_PROXY")
        result = run_pyz(pyz, ["--pass", "tunnelled", "--instance-id", INSTANCE], env)
    finally:
        proxy.stop()
    assert result.returncode == 0, result.stderr
    [(method, target, headers)] = proxy.requests
    assert (method, target) == ("CONNECT", tls_bridge.host)
    assert len(tls_bridge.accepted) == 1  # TLS end to end through the tunnel


def test_a_proxy_that_refuses_the_tunnel_is_named(pyz, tls_bridge, certificates):
    proxy = standins.ConnectProxy(auth="Basic required").start()
    try:
        env = base_env(AWS_ENDPOINT_URL_EVENTBRIDGE=tls_bridge.url, AWS_REGION="us-east-1",
                       AWS_CA_BUNDLE=certificates["ca.pem"], HTTPS_PROXY=proxy.url, **ENV_KEYS)
        env.pop("NO_PROXY")
        result = run_pyz(pyz, ["--pass", "x", "--instance-id", INSTANCE, "--no-spool",
                               "--timeout", "1"], env)
    finally:
        proxy.stop()
    assert result.returncode == 1
    line = one_line(result)
    assert "through the proxy " + proxy.url in line and "407" in line


def test_a_process_builds_its_tls_context_once(tls_bridge, certificates, tmp_path):
    """Retries and later events reuse the context: with the system's CAs, building it
    means parsing every certificate (50-70 ms).  Seen here: once built, the CA file
    is no longer needed."""
    from bosky import transport
    ca = str(tmp_path / "ca.pem")
    shutil.copy(certificates["ca.pem"], ca)
    sender = transport.Transport({}, ca_bundle=ca)
    assert sender.request("POST", tls_bridge.url, {}, b"{}", 5, "Test").status == 400
    os.remove(ca)  # refused unsigned above, but over verified TLS; and the context is kept
    assert sender.request("POST", tls_bridge.url, {}, b"{}", 5, "Test").status == 400
