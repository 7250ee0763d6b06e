"""Many instances at once against a throttling EventBridge: nothing lost, nothing doubled.

60 concurrent bosky processes hit a stand-in that accepts 5 requests per
second and throttles the rest, as a regional PutEvents quota does in a large
scale-out.  Whatever was not delivered before each run's deadline must be in
the spool, and one `bosky flush` afterwards must deliver it: every event
exactly once (the stand-in never loses a reply here, so no duplicate is excused).
"""

import collections
import os
import subprocess
import sys

from test_delivery import env_for, flush
from test_e2e import INSTANCE

from bosky import spool as spool_module

PROCESSES = 60


def test_sixty_concurrent_runs_then_flush_deliver_every_event_once(pyz, eventbridge,
                                                                    spool_dir):
    eventbridge.rate_limit = 5  # 60 runs cannot all fit in 6 s: some must spool
    env = env_for(eventbridge)
    procs = [subprocess.Popen([sys.executable, pyz, "--pass", "instance {}".format(n),
                               "--instance-id", INSTANCE, "--timeout", "6"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for n in range(PROCESSES)]
    codes = collections.Counter(p.wait(timeout=120) for p in procs)
    assert set(codes) <= {0, 75} and codes[75] > 0, codes
    spooled = spool_module.Spool(spool_dir, os.geteuid()).records()
    # Later successful runs flush the backlog, so some spooled events may already be sent.
    assert len(spooled) <= codes[75]
    assert eventbridge.throttled > 0, "the stand-in never throttled: the test proved nothing"

    eventbridge.rate_limit = None
    assert flush(pyz, eventbridge, "--timeout", "30").returncode == 0
    uuids = collections.Counter(item["detail"]["EventUuid"] for item in eventbridge.accepted)
    assert len(uuids) == PROCESSES and set(uuids.values()) == {1}
    assert sorted(item["detail"]["Message"] for item in eventbridge.accepted) == \
        sorted("instance {}".format(n) for n in range(PROCESSES))


def test_a_lost_reply_gives_a_duplicate_with_the_same_event_uuid(pyz, eventbridge):
    from test_delivery import emit
    eventbridge.script = ["lost"]
    result = emit(pyz, eventbridge, "--pass", "twice")
    assert result.returncode == 0, result.stderr
    assert [item["detail"]["Message"] for item in eventbridge.accepted] == ["twice", "twice"]
    first, second = (item["detail"]["EventUuid"] for item in eventbridge.accepted)
    assert first == second  # consumers can drop the duplicate by EventUuid
