"""Loopback stand-ins for AWS: IMDS, EventBridge, STS and container credentials.

Real HTTP servers on 127.0.0.1, used by the tests and by `make demo`.  Each
runs in a daemon thread on an ephemeral port, records every request, and
behaves like the service it stands in for, including its failure modes.  The
EventBridge and STS stand-ins check each request's SigV4 signature with their
own small verifier (written from the spec, sharing no code with bosky), so a
signing bug cannot hide.  Standard library only, Python 3.6 compatible.
"""

from .autoscaling import AutoScalingStandIn  # noqa: F401
from .base import CONTENT_TYPE, ROLE_NAME, TEST_KEY_ID, TEST_SECRET, StandIn  # noqa: F401
from .eventbridge import EventBridgeStandIn, verify_sigv4  # noqa: F401
from .proxy import ConnectProxy  # noqa: F401
from .raw import RawReplyServer  # noqa: F401
from .s3 import S3StandIn  # noqa: F401
from .tls import hashed_directory, make_certificates  # noqa: F401
from .imds import ImdsStandIn, identity_document  # noqa: F401
from .sts import (ROLE_KEY_ID, ROLE_SECRET, ROLE_TOKEN, ContainerStandIn,  # noqa: F401
                  StsStandIn)
