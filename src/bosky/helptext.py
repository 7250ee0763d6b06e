"""The texts of `bosky --help` and of each command's --help, kept apart from the parser."""

DESCRIPTION = """\
Send a structured event about this instance's boot to Amazon EventBridge.

  bosky --fail "artifact download returned 404"
  bosky --pass --project web "user data finished"
  echo "details" | bosky --status degraded -

The event's Source is the project, its detail-type "User Data", and its
detail {"Status", "Message", "InstanceId", "EventUuid"}; Resources holds the
instance ARN.  Failed sends are retried until --timeout; an event that still
could not be sent for a transient reason is spooled (exit 75).

  bosky run -- CMD...     run a command as a reported step (start, then pass or fail)
  bosky run-parts DIR     run a directory of numbered scripts, each a reported step
  eval "$(bosky trap)"    report a Bash script's failing commands
  bosky lifecycle complete --hook NAME   complete an Auto Scaling lifecycle action
  bosky watch             wait for termination: report, run a command, complete the hook
  bosky boot-report       report cloud-init's verdict on this boot (bake into an AMI)
  bosky flush             send events spooled by earlier runs
  bosky doctor            check the setup, one line per check
  (each has its own --help)
"""

FLUSH_DESCRIPTION = """\
Send the events earlier runs spooled, oldest first, in batches of up to 10.
Each is deleted only after EventBridge returned its EventId.  Concurrent
flushes are safe: one holds the spool's lock, the others leave it the work.
"""

EPILOG = """\
environment:
  BOSKY_PROJECT (or BOSKEY_PROJECT), BOSKY_DETAIL_TYPE, BOSKY_EVENT_BUS,
  BOSKY_INSTANCE_ID, BOSKY_TIMEOUT, BOSKY_SPOOL_DIR, AWS_MAX_ATTEMPTS
                                          defaults for the flags above
  AWS_REGION, AWS_DEFAULT_REGION          region (else the profile's, else the instance's)
  AWS_PROFILE, AWS_DEFAULT_PROFILE, AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE
                                          the AWS profile and its files
  credentials, first found: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY
  (+ AWS_SESSION_TOKEN); AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN; the
  profile (keys, credential_process, role_arn); AWS_CONTAINER_CREDENTIALS_*;
  the instance profile (IMDS)
  AWS_ENDPOINT_URL_EVENTBRIDGE, AWS_ENDPOINT_URL, AWS_USE_FIPS_ENDPOINT,
  AWS_USE_DUALSTACK_ENDPOINT, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS   endpoints
  AWS_EC2_METADATA_SERVICE_ENDPOINT(_MODE), AWS_EC2_METADATA_DISABLED,
  AWS_EC2_METADATA_V1_DISABLED, AWS_METADATA_SERVICE_TIMEOUT   IMDS
  HTTPS_PROXY, HTTP_PROXY, NO_PROXY       proxy for AWS calls (never IMDS or containers)
  AWS_CA_BUNDLE                           a private CA for TLS inspection

exit status:
  0  EventBridge accepted the event
  1  not delivered (the error line says why and what to do)
  2  usage or validation error (nothing was sent)
  75 not delivered yet: spooled, `bosky flush` will send it
  (with --no-fail, 1 and 75 become 0; the error line is still printed)
"""

FLUSH_EPILOG = """\
exit status:
  0  the spool is empty (or another flush is sending it)
  1  EventBridge refused an event for good (moved to rejected/) or a request
     failed in a way retrying cannot fix (the events stay spooled)
  2  usage error
  75 events remain spooled (out of time); run bosky flush again later
"""

DOCTOR_DESCRIPTION = """\
Check what bosky would use and whether an event could be sent: version,
AWS profile, instance metadata, instance, region, endpoint, proxy, CA bundle,
credentials (their source, never a secret), the clock against the endpoint's,
and a PutEvents request signed but not sent.
"""

DOCTOR_EPILOG = """\
exit status:
  0  an event could be sent
  1  something stops it: the closing line names the first problem and its fix
  2  usage error
"""

RUN_DESCRIPTION = """\
Run COMMAND as a reported step: a start event, then pass or fail with Step,
ExitCode, DurationSeconds, Command and OutputTail (the last 4 KiB of its
output, cut further if needed to fit EventBridge's limit).  Output is shown
live; SIGINT, SIGTERM and SIGHUP are passed on.  The command runs even if the
start event cannot be delivered.  Exit status: the command's own (128+N if
signal N killed it, 127 if it could not be started).
"""

RUN_PARTS_DESCRIPTION = """\
Run the executable files in DIR in lexical order (dotfiles and non-executables
are skipped, named in --debug), each reported like `bosky run`, then one event
that sums up the bundle.  Stops at the first failure unless --keep-going.
Exit status: the first failing part's, else 0.
"""

TRAP_DESCRIPTION = """\
Print Bash that reports the script's failing commands:  eval "$(bosky trap)"
Each failure sends a fail event with the command, its line and exit status.
Options not listed here (--project web, ...) are passed to every bosky call.
"""

LIFECYCLE_DESCRIPTION = """\
Complete (or heartbeat) the Auto Scaling lifecycle action waiting for this
instance: CompleteLifecycleAction / RecordLifecycleActionHeartbeat, signed
by bosky.  The group comes from --group, else the instance's
aws:autoscaling:groupName tag.  "No active Lifecycle Action found" is retried
until --timeout, since early in user data the hook may not be active yet.
Exit status: 0 done, 1 not done (the error says why), 2 usage error.
"""

WATCH_DESCRIPTION = """\
Run until this instance is being terminated: poll IMDS every --interval for
autoscaling/target-lifecycle-state = Terminated and for a spot interruption
notice; then send a `terminating` event, run --on-terminate (reported like
`bosky run`, heartbeating --hook while it runs), complete --hook with
CONTINUE, and exit 0.  Survives IMDS hiccups and token expiry; exits 0 on
SIGTERM.  --timeout bounds each report and hook call, not the watch.
"""

BOOT_REPORT_DESCRIPTION = """\
Wait (up to --wait) for cloud-init to finish, then send one event with its
verdict: pass, fail (any stage or result.json has errors) or degraded (only
recoverable errors), with Stages, Errors (the failing modules, such as
scripts_user), BootSeconds, Datasource, CloudInitStatus, the instance context
and, on failure, OutputTail from the output log.  If cloud-init does not
finish in time, a fail event names the stage it is stuck in.  Reports once per
instance (a marker in --state-dir) unless --every-boot.  With
--complete-lifecycle HOOK: CONTINUE on pass or degraded, ABANDON on fail.
Exit status: as for any event (0 sent, 75 spooled, 1 not delivered); 2 off a
cloud-init machine.
"""
