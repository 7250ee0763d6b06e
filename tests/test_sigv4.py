"""SigV4 step by step against AWS's published example values, then against botocore.

Vectors: IAM User Guide "Create a signed AWS API request" (ListUsers), the
older "derive a signing key" example, the aws-sig-v4 test suite (service
"service", host example.amazonaws.com), and a PutEvents request signed by
botocore 1.43.11 (../shared/AWS-NOTES.md section 1.3).
"""

import datetime
import random

import pytest

from bosky.aws import sigv4
from bosky.credentials import Credentials

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
WHEN = datetime.datetime(2015, 8, 30, 12, 36, 0, tzinfo=datetime.timezone.utc)
SUITE_HOST = "example.amazonaws.com"


def canonical_for(method, path, query, headers, body=b""):
    block, signed = sigv4.canonical_headers(headers)
    return sigv4.canonical_request(method, sigv4.canonical_uri(path),
                                   sigv4.canonical_query(query), block, signed,
                                   sigv4.payload_hash(body)), signed


def sha256_hex(text):
    import hashlib
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sign_text(canonical, region, service, date="20150830", stamp="20150830T123600Z"):
    scope = sigv4.credential_scope(date, region, service)
    key = sigv4.signing_key(SECRET, date, region, service)
    return sigv4.signature(key, sigv4.string_to_sign(stamp, scope, canonical))


# -- IAM ListUsers: every step has a documented value -----------------------

LIST_USERS_HEADERS = [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
                      ("Host", "iam.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")]


def test_list_users_canonical_request_hash():
    canonical, signed = canonical_for("GET", "/", "Action=ListUsers&Version=2010-05-08",
                                      LIST_USERS_HEADERS)
    assert signed == "content-type;host;x-amz-date"
    assert sha256_hex(canonical) == \
        "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"


def test_list_users_string_to_sign():
    canonical, _ = canonical_for("GET", "/", "Action=ListUsers&Version=2010-05-08",
                                 LIST_USERS_HEADERS)
    text = sigv4.string_to_sign("20150830T123600Z",
                                sigv4.credential_scope("20150830", "us-east-1", "iam"), canonical)
    assert text == ("AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n"
                    "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59")


def test_list_users_signing_key():
    assert sigv4.signing_key(SECRET, "20150830", "us-east-1", "iam").hex() == \
        "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"


def test_list_users_signature():
    canonical, _ = canonical_for("GET", "/", "Action=ListUsers&Version=2010-05-08",
                                 LIST_USERS_HEADERS)
    assert sign_text(canonical, "us-east-1", "iam") == \
        "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"


def test_derive_signing_key_example_2012():
    assert sigv4.signing_key(SECRET, "20120215", "us-east-1", "iam").hex() == \
        "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"


# -- the signature test suite -------------------------------------------------

def suite_headers(*extra):
    return [("Host", SUITE_HOST), ("X-Amz-Date", "20150830T123600Z")] + list(extra)


SUITE = [
    ("get-vanilla", "GET", "/", "", suite_headers(),
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    ("post-vanilla", "POST", "/", "", suite_headers(),
     "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
    ("get-vanilla-with-session-token", "GET", "/", "", suite_headers(
        ("X-Amz-Security-Token",
         "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267")),
     "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"),
    ("get-header-value-trim", "GET", "/", "", suite_headers(
        ("My-Header1", " value1"), ("My-Header2", ' "a   b   c"')),
     "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"),
    ("get-header-key-duplicate", "GET", "/", "", suite_headers(
        ("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1")),
     "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"),
    ("get-utf8", "GET", "/\u1234", "", suite_headers(),
     "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"),
    ("get-vanilla-utf8-query", "GET", "/", "\u1234=bar", suite_headers(),
     "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
    ("get-vanilla-query-unreserved", "GET", "/",
     "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz="
     "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", suite_headers(),
     "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"),
    ("post-vanilla-query", "POST", "/", "Param1=value1", suite_headers(),
     "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"),
]


@pytest.mark.parametrize("name,method,path,query,headers,expected", SUITE,
                         ids=[case[0] for case in SUITE])
def test_signature_suite(name, method, path, query, headers, expected):
    canonical, _ = canonical_for(method, path, query, headers)
    assert sign_text(canonical, "us-east-1", "service") == expected


def test_get_vanilla_canonical_request_hash():
    canonical, _ = canonical_for("GET", "/", "", suite_headers())
    assert sha256_hex(canonical) == \
        "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"


def test_form_body_payload_hash_and_signature():
    body = b"Param1=value1"
    assert sigv4.payload_hash(body) == \
        "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"
    canonical, _ = canonical_for("POST", "/", "", suite_headers(
        ("Content-Type", "application/x-www-form-urlencoded")), body)
    assert sign_text(canonical, "us-east-1", "service") == \
        "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"


@pytest.mark.parametrize("path,expected", [
    ("", "/"), ("/a b/c", "/a%20b/c"), ("/a%20b/c", "/a%2520b/c"),
    ("/a/./b/../c//d/", "/a/c/d/"), ("/~user/x+y=z:@", "/~user/x%2By%3Dz%3A%40"),
    ("//a", "/a"),
])
def test_canonical_uri_normalises_and_encodes_twice(path, expected):
    assert sigv4.canonical_uri(path) == expected


def test_unsigned_headers_are_left_out():
    _, signed = canonical_for("POST", "/", "", suite_headers(
        ("User-Agent", "x"), ("Content-Length", "3"), ("Connection", "close")))
    assert signed == "host;x-amz-date"


def test_host_header_drops_default_port_and_keeps_others():
    assert sigv4.host_header("https://Events.us-east-1.amazonaws.com:443/") == \
        "events.us-east-1.amazonaws.com"
    assert sigv4.host_header("http://127.0.0.1:8080/") == "127.0.0.1:8080"
    assert sigv4.host_header("http://[::1]:80/") == "[::1]"


# -- PutEvents, end to end through sign_request ------------------------------

PUT_EVENTS_BODY = b'{"Entries":[{"Source":"my.app","DetailType":"Test","Detail":"{\\"a\\":1}"}]}'
PUT_EVENTS_HEADERS = {"Content-Type": "application/x-amz-json-1.1",
                      "X-Amz-Target": "AWSEvents.PutEvents"}


def test_put_events_signing_key():
    assert sigv4.signing_key(SECRET, "20150830", "us-east-1", "events").hex() == \
        "629fa33a2f374c140cc9922ee83fba66654f052ebcca0fcc269210166ac2c618"


@pytest.mark.parametrize("token,expected", [
    (None, "da675cfacb75349e79f34c2fa3d42109e4b48285e5f3a9a1228fd3eb62613244"),
    ("AQoDYXdzEJr...EXAMPLETOKEN",
     "2e0a35d58128632c3978cbfb9cdefe073fde59b1b6c577546abe9db23525f6b5"),
])
def test_put_events_signature_matches_botocore_vector(token, expected):
    assert len(PUT_EVENTS_BODY) == 74
    creds = Credentials("AKIDEXAMPLE", SECRET, token)
    headers = sigv4.sign_request("POST", "https://events.us-east-1.amazonaws.com/",
                                 PUT_EVENTS_HEADERS, PUT_EVENTS_BODY, creds, "us-east-1",
                                 "events", WHEN)
    signed = "content-type;host;x-amz-date;x-amz-target" if token is None else \
        "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
    assert headers["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/events/aws4_request, "
        "SignedHeaders={}, Signature={}".format(signed, expected))
    assert headers["X-Amz-Date"] == "20150830T123600Z"
    assert headers.get("X-Amz-Security-Token") == token


# -- botocore as an independent oracle ----------------------------------------

def _random_text(rng, size):
    alphabet = "abcXYZ019 \"'\\\n\t{}:,/+=%&?#\u00e9\u1234\U0001f600"
    return "".join(rng.choice(alphabet) for _ in range(size))


def _botocore_authorization(url, headers, body, creds, region, service):
    botocore_auth = pytest.importorskip("botocore.auth")
    from unittest import mock
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotoCredentials
    request = AWSRequest(method="POST", url=url, data=body, headers=dict(headers))
    signer = botocore_auth.SigV4Auth(
        BotoCredentials(creds.access_key_id, creds.secret_access_key, creds.session_token),
        service, region)
    with mock.patch.object(botocore_auth, "get_current_datetime",
                           return_value=WHEN.replace(tzinfo=None)):
        signer.add_auth(request)
    return request.headers["Authorization"]


def test_signatures_agree_with_botocore_on_generated_requests():
    pytest.importorskip("botocore")
    rng = random.Random(20261121)
    regions = ["us-east-1", "eu-west-3", "cn-north-1", "us-gov-west-1", "ap-southeast-5"]
    for case in range(150):
        region = rng.choice(regions)
        host = "events.{}.amazonaws.com".format(region)
        url = "https://{}/".format(host) if case % 3 else "http://127.0.0.1:{}/".format(
            rng.randint(1024, 65535))
        detail = '{"Message": %s}' % repr(_random_text(rng, rng.randint(0, 200)))
        body = ('{"Entries":[{"Source":"p","DetailType":"User Data","Detail":%s}]}'
                % repr(detail)).encode("utf-8")
        token = None if case % 2 else "FQoGZX" + _random_text(rng, 40).replace("\n", "")
        creds = Credentials("AKIA" + str(case).zfill(16), _random_text(rng, 40), token)
        ours = sigv4.sign_request("POST", url, PUT_EVENTS_HEADERS, body, creds, region,
                                  "events", WHEN)
        theirs = _botocore_authorization(url, PUT_EVENTS_HEADERS, body, creds, region, "events")
        assert ours["Authorization"] == theirs, "case {} differs".format(case)
