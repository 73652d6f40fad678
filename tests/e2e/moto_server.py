"""A fake AWS for the end-to-end suite: moto's server on 127.0.0.1, plus a TEST-ONLY EXTENSION.

    python moto_server.py            # prints "moto listening on 127.0.0.1:<port>" once ready,
                                     # serves until stdin closes or SIGTERM/SIGINT arrives

=====================================================================================
TEST-ONLY EXTENSION OF MOTO 5.2.5 (not part of fanin; nothing here is deployed anywhere)
=====================================================================================
moto's EventBridge delivers rule targets in `moto.events.models.Rule.send_to_targets`. Four
gaps there hide the chain fanin builds (member default bus -> hub intake bus -> SNS topic and
findings queue, and the dead-letter queues beside them):

1. SNS topic targets are not delivered: the method raises NotImplementedError for any target
   it does not know, and SNS is one of them. AWS publishes the event (the whole event JSON) to
   the topic. The extension does exactly that, through moto's own SNS backend, so that the
   topic's subscriptions (the test's SQS queue) receive it.
2. Event bus targets in another account/region are forwarded, but as a brand-new event: moto
   calls `put_events` in the target account, which rewrites `account` and `region` to the hub's
   (and moto's default input template even drops `account`). On AWS a forwarded event keeps its
   envelope: `account` stays the account the event started in, which is how the hub tells
   members apart. The extension forwards the event unchanged to the rules of the target bus.
2b. SQS queue targets get moto's default input template, which leaves `account` out of the
   event. On AWS a target without Input, InputPath or InputTransformer receives the whole
   event (EventBridge API reference, PutTargets: "the entire event is passed to the target in
   JSON format"). The extension sends the whole event JSON as the message body through moto's
   own SQS backend.
2c. An InputTransformer on those targets goes through moto's template parser, which reads the
   result as JSON and so fails on a plain-text template. AWS sends a plain-text template as it
   is once each <name> is replaced by the value at its JSON path (EventBridge API reference,
   InputTransformer: "<instance> is in state <status>"; user guide tutorial "Use input
   transformer": the SNS message is the sentence itself). The extension does that: a string
   value as it is, any other value as its JSON (written compactly: AWS does not document the
   spacing). A path the event lacks leaves its placeholder untouched here; AWS only says the
   variable "isn't created", and the suite's findings have every path the modules use.
3. A target's DeadLetterConfig is stored but never used: in moto no delivery ever fails. For
   one purpose only, following a failed delivery into its dead-letter queue, the extension adds
   a FAILURE INJECTION: an event whose `detail` has `"e2eFailTarget": "<target id>"` is not
   delivered to the SNS, SQS or event-bus targets with that id (every other target still gets it).
   It stands in for a real failure (a key or topic policy denying EventBridge, a deleted topic,
   throttling), none of which moto can produce. Then, as EventBridge does once its retries are
   exhausted (the extension neither waits nor retries), the event goes to the target's
   dead-letter queue as the message body, with the message attributes RULE_ARN, TARGET_ARN,
   ERROR_CODE and ERROR_MESSAGE; a target without a DeadLetterConfig drops it. Nothing in fanin
   or in the tree knows about the marker.

Two more places where moto 5.2.5 departs from what AWS documents, and the upgrade scenario
(test_upgrade.py) would otherwise see moto, not AWS:

4. PutPermission with a whole `Policy` (what `aws_cloudwatch_event_bus_policy` sends) merges
   the new statements into the bus's old ones in moto; on AWS the policy given replaces the
   bus's policy. The hashicorp/aws documentation of aws_cloudwatch_event_bus_policy says so:
   "incompatible with the EventBridge permission resource (aws_cloudwatch_event_permission)
   and will overwrite permissions". The extension replaces the statements.
5. SetQueueAttributes drops the queue's access policy in moto whenever the call does not name
   `Policy` (moto sets it to the absent value); on AWS the call changes only the attributes it
   names (SQS API reference, SetQueueAttributes). The extension keeps the policy when the call
   does not name it.
6. Event patterns do not reach into arrays of objects in moto: its flattening stops at a list,
   so a pattern on `detail.findings.Severity.Label` never matches a Security Hub event, whose
   finding is the one element of `detail.findings`. On AWS a pattern field matches when any
   element's value does (EventBridge user guide, "Event pattern syntax": "matching on values in
   arrays"; Security Hub user guide, "Configuring an EventBridge rule for Security Hub CSPM
   findings" filters on findings.Severity.Label). The extension flattens the objects of a list
   into a list of their values per path.

And one RECORDING, which changes nothing moto does:

6. When FANIN_E2E_CALLS names a file, every request the engine makes (User-Agent naming
   terraform-provider-aws; the suite's own boto3 inspection is left out) appends one JSON line
   to it: the account the request acts in (moto's own answer, from the request's keys), the
   IAM service prefix and the action. The suite checks that the deploy role grants each of
   them (test_lifecycle.py).

Everything else (other target types, input transformers on them, pattern matching) stays
moto's. Like moto, the extension enforces no authorization: no bus, queue, topic or key policy
and no target role is evaluated, which is why the suite asserts those on the plan JSON and on
the policies moto stores instead.

The server binds 127.0.0.1 only, on a free port chosen by the OS.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import sys
import threading

from moto.core.responses import BaseResponse
from moto.events import models as events_models
from moto.sqs import models as sqs_models
from moto.utilities.arns import parse_arn

MOTO_VERSION = "5.2.5"

_moto_send_to_targets = events_models.Rule.send_to_targets
_moto_add_policy = events_models.EventBus.add_policy
_moto_set_queue_attributes = sqs_models.Queue._set_attributes
_moto_call_action = BaseResponse.call_action
_calls_lock = threading.Lock()


def _kind(target: dict) -> str | None:
    arn = parse_arn(target["Arn"])
    if arn.service == "sns":
        return "sns"
    if arn.service == "sqs" and not target.get("InputTransformer") and not target.get("SqsParameters"):
        return "sqs"
    if arn.service == "events" and arn.resource_type == "event-bus":
        return "event-bus"
    return None


def _send_to_targets(self, original_event, transform_input=True):  # noqa: ANN001
    """Rule.send_to_targets with SNS delivery, whole-event SQS delivery and envelope-preserving
    bus forwarding."""
    extended = [t for t in self.targets if _kind(t)]
    others = [t for t in self.targets if not _kind(t)]
    if others:
        # moto's own delivery for every other target type, on a shallow copy of the rule.
        rule = copy.copy(self)
        rule.targets = others
        _moto_send_to_targets(rule, original_event, transform_input)
    if not extended or not self.event_pattern.matches_event(original_event):
        return
    for target in extended:
        if _fails(original_event, target):
            _dead_letter(self, target, original_event)
            continue
        arn = parse_arn(target["Arn"])
        event = copy.deepcopy(original_event)
        if transform_input and target.get("InputTransformer"):
            event = _transform(target["InputTransformer"], event)
        if _kind(target) == "sns":
            _deliver_to_topic(target["Arn"], arn, event)
        elif _kind(target) == "sqs":
            _deliver_to_queue(arn, event)
        else:
            _forward_to_bus(arn, event)


def _transform(transformer: dict, event: dict) -> str:
    """(2c.) A plain-text InputTemplate with each <name> replaced by its path's value."""
    text = transformer.get("InputTemplate", "")
    for name, path in transformer.get("InputPathsMap", {}).items():
        value = event
        for part in path.removeprefix("$.").split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            continue
        shown = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        text = text.replace(f"<{name}>", shown)
    return text


FAIL_MARKER = "e2eFailTarget"


def _fails(event: dict, target: dict) -> bool:
    """The failure injection (3.): the event asks to fail at this target."""
    detail = event.get("detail")
    return isinstance(detail, dict) and detail.get(FAIL_MARKER) == target["Id"]


def _dead_letter(rule, target: dict, event: dict) -> None:  # noqa: ANN001
    """What EventBridge does with an event it gave up delivering: the target's dead-letter
    queue gets the event, with the attributes EventBridge sets; without one it is dropped."""
    from moto.sqs import sqs_backends

    config = target.get("DeadLetterConfig") or {}
    if not config.get("Arn"):
        return
    queue = parse_arn(config["Arn"])

    def attribute(value: str) -> dict:
        return {"DataType": "String", "StringValue": value}

    sqs_backends[queue.account][queue.region].send_message(
        queue_name=queue.resource_id,
        message_body=json.dumps(event, default=str),
        message_attributes={
            "RULE_ARN": attribute(rule.arn),
            "TARGET_ARN": attribute(target["Arn"]),
            "ERROR_CODE": attribute("E2E_INJECTED_FAILURE"),
            "ERROR_MESSAGE": attribute(f"test-only failure injected by {FAIL_MARKER}"),
        },
    )


def _deliver_to_topic(topic_arn: str, arn, event: dict) -> None:  # noqa: ANN001
    from moto.sns import sns_backends

    message = event if isinstance(event, str) else json.dumps(event, default=str)
    sns_backends[arn.account][arn.region].publish(message=message, arn=topic_arn)


def _deliver_to_queue(arn, event: dict) -> None:  # noqa: ANN001
    from moto.sqs import sqs_backends

    sqs_backends[arn.account][arn.region].send_message(
        queue_name=arn.resource_id, message_body=json.dumps(event, default=str)
    )


def _forward_to_bus(arn, event: dict) -> None:  # noqa: ANN001
    backend = events_models.events_backends[arn.account][arn.region]
    bus = backend.describe_event_bus(arn.resource_id)
    for rule in list(bus.rules.values()):
        if rule.state == "ENABLED":
            rule.send_to_targets(copy.deepcopy(event))


def _flatten_dict(node, prefix: str = "", result: dict | None = None) -> dict:  # noqa: ANN001
    """(6.) moto's EventPattern._flatten_dict, with the objects of a list flattened too: each
    of their paths gets the list of the elements' values."""
    if result is None:
        result = {}
    if isinstance(node, dict):
        for k, v in node.items():
            key = f"{prefix}.{k}" if prefix else k
            if isinstance(v, dict) and v:
                _flatten_dict(v, key, result)
            elif isinstance(v, list) and any(isinstance(x, dict) for x in v):
                for element in v:
                    for path, value in _flatten_dict(element, key, {}).items() if isinstance(element, dict) else ():
                        values = result.setdefault(path, [])
                        values.extend(value if isinstance(value, list) else [value])
            else:
                result[key] = v
    return result


def _replace_bus_policy(self, policy: dict) -> None:  # noqa: ANN001
    """(4.) EventBus.add_policy as AWS does it: the policy given is the bus's whole policy."""
    self.remove_statements()
    _moto_add_policy(self, policy)


def _set_queue_attributes(self, attributes: dict, now: float | None = None) -> None:  # noqa: ANN001
    """(5.) Queue._set_attributes that leaves the access policy alone unless it is named."""
    policy = getattr(self, "policy", None)
    _moto_set_queue_attributes(self, attributes, now)
    if "Policy" not in attributes:
        self.policy = policy


def _record_call(self):  # noqa: ANN001, ANN202
    """(6.) BaseResponse.call_action that first notes who called what, for the engine only."""
    path = os.environ.get("FANIN_E2E_CALLS")
    agent = self.headers.get("User-Agent", "")
    if path and "terraform-provider-aws" in agent:
        call = {
            "account": self.get_current_account(),
            "service": self.service_name,
            "action": self._get_action(),
        }
        with _calls_lock, open(path, "a") as calls:
            calls.write(json.dumps(call) + "\n")
    return _moto_call_action(self)


def install() -> None:
    """Applies the extension (idempotent)."""
    import moto

    if moto.__version__ != MOTO_VERSION:
        raise SystemExit(
            f"moto {moto.__version__}: this extension was written for moto {MOTO_VERSION}; "
            "check moto.events.models.Rule.send_to_targets and update it"
        )
    events_models.Rule.send_to_targets = _send_to_targets
    events_models.EventBus.add_policy = _replace_bus_policy
    events_models.EventPattern._flatten_dict = staticmethod(_flatten_dict)
    sqs_models.Queue._set_attributes = _set_queue_attributes
    BaseResponse.call_action = _record_call
# ============================ end of the test-only extension ============================


def main() -> None:
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    assert host == "127.0.0.1", host

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    # The parent holds our stdin: when it goes away, so do we.
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()

    print(f"moto listening on {host}:{port}", flush=True)
    done.wait()
    server.stop()


if __name__ == "__main__":
    main()
