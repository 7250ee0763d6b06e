"""The emit pipeline: settings -> identity -> region -> event -> credentials -> delivery.

`emit` reads as the numbered steps of one run.  Every input from the outside
world arrives through `deps` (environment mapping, clocks, the HTTP sender,
output streams), so tests can drive it against loopback stand-ins.
"""

import datetime
import json

from bosky import credentials, errors, eventbridge, events, identity, imds
from bosky.deadline import Deadline


class Deps(object):
    """What a run needs from the outside world; built in `cli.main`."""

    def __init__(self, env, send, wall_clock, monotonic, stdout, log):
        self.env = env
        self.send = send              # transport.send with the env bound
        self.wall_clock = wall_clock  # time.time
        self.monotonic = monotonic    # time.monotonic
        self.stdout = stdout
        self.log = log                # debug trace; a no-op without --debug


def resolve_identity(settings, imds_client, log):
    if settings.instance_id:
        found = identity.from_given_id(settings.instance_id, settings.origin["instance_id"])
        log("instance {} from {}".format(found.instance_id, settings.origin["instance_id"]))
        return found
    document = imds_client.get(imds.IDENTITY_DOCUMENT)
    partition = imds_client.get(imds.PARTITION, optional=True)
    found = identity.from_identity_document(
        document, partition.decode("ascii", "replace").strip() if partition else None)
    log("instance {} ({}) from the IMDS identity document".format(found.instance_id,
                                                                  found.resource))
    return found


def resolve_region(settings, found, imds_client, log):
    """--region / AWS_REGION / AWS_DEFAULT_REGION / config, else the instance's own."""
    if settings.region:
        log("region {} from {}".format(settings.region, settings.origin["region"]))
        return settings.region
    if found.region:
        log("region {} from the instance identity".format(found.region))
        return found.region
    _, region, _ = identity.parse_identity_document(imds_client.get(imds.IDENTITY_DOCUMENT))
    log("region {} from the IMDS identity document".format(region))
    return region


def credential_providers(env, imds_client):
    """The chain, in the SDKs' order; later issues insert more providers here."""
    return [
        ("environment variables", lambda: credentials.from_environment(env)),
        ("instance profile (IMDS)", lambda: credentials.from_instance_profile(imds_client)),
    ]


def dry_run_document(url, region, entries):
    return json.dumps({"endpoint": url, "region": region,
                       "request": json.loads(events.request_body(entries).decode("utf-8"))},
                      indent=2, ensure_ascii=False)


def emit(settings, status, message, deps, dry_run=False, verbose=False):
    """Send one event; return the exit status (errors are raised)."""
    log = deps.log
    # 1. Refuse bad names before any network wait.
    events.check_names(settings.project, settings.detail_type)
    events.check_status(status)
    deadline = Deadline(settings.timeout, deps.monotonic)
    imds_client = imds.ImdsClient(deps.send, deps.env, deadline, log)
    # 2. Which instance, in which region, to which endpoint.
    found = resolve_identity(settings, imds_client, log)
    region = resolve_region(settings, found, imds_client, log)
    url = eventbridge.endpoint_url(region, settings.endpoint_url)
    log("endpoint {}{}".format(url, " from " + settings.origin["endpoint_url"]
                               if settings.endpoint_url else ""))
    # 3. The event, checked against EventBridge's rules.
    epoch = deps.wall_clock()
    entry = events.build_entry(settings.project, settings.detail_type,
                               events.build_detail(status, message, found.instance_id),
                               [found.resource], settings.event_bus, epoch)
    events.validate_entry(entry)
    log("event: {} bytes by EventBridge's count".format(events.entry_size(entry)))
    if dry_run:
        deps.stdout.write(dry_run_document(url, region, [entry]) + "\n")
        return errors.EXIT_OK
    # 4. Credentials, then one signed PutEvents.
    creds = credentials.resolve_credentials(credential_providers(deps.env, imds_client))
    log("credentials from {} (key id ****{})".format(creds.source, creds.access_key_id[-4:]))
    now = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    timeout = deadline.timeout_for(deadline.total, "sending the event to EventBridge")
    event_ids = eventbridge.put_events(deps.send, url, region, creds, [entry], now, timeout)
    log("EventBridge accepted the event: EventId {}".format(event_ids[0]))
    if verbose:
        deps.stdout.write(event_ids[0] + "\n")
    return errors.EXIT_OK
