"""Drives ecs-sim with Huawei's unmodified official Python SDK (huaweicloudsdkecs 3.1.219).

Run by tests/it/sim/sdk.rs with the venv of `scripts/ensure-tools.sh sdk`:

    drive_sim.py URL PROJECT_ID SERVER_ID...

with ECS_SIM_AK and ECS_SIM_SK in the environment (kept out of argv). The servers must all be
SHUTOFF and ecs-sim's transitions a few hundred ms, so that each state while an operation
runs can be seen, and the fleet generated with `--fleet-name-pattern web-{i}`,
`--fleet-tags env=prod+team=a,env=staging` and `--fleet-flavors s6.small.1,c7.large.2`.
Lists the servers with every filter and by marker, lists them by id, starts them, reboots them SOFT and HARD, checks
that a reboot without `type` is refused, stops them SOFT and HARD, and shows every job until
it ends, asserting the states along the way. Exits 0 when every check holds.
"""

import os
import sys
import time

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkecs.v2 import (
    BatchRebootServersRequest,
    BatchRebootServersRequestBody,
    BatchRebootSeversOption,
    BatchStartServersOption,
    BatchStartServersRequest,
    BatchStartServersRequestBody,
    BatchStopServersOption,
    BatchStopServersRequest,
    BatchStopServersRequestBody,
    EcsClient,
    ListServersDetailsRequest,
    ServerId,
    ShowJobRequest,
)

JOB_DEADLINE_SECS = 20


def client(url, project_id):
    credentials = BasicCredentials(os.environ["ECS_SIM_AK"], os.environ["ECS_SIM_SK"], project_id)
    config = HttpConfig.get_default_config()
    config.timeout = (5, 10)
    return (
        EcsClient.new_builder()
        .with_http_config(config)
        .with_credentials(credentials)
        .with_endpoints([url])
        .build()
    )


def states(ecs, ids):
    """{id: (status, task state)} of the servers, read by id in one call."""
    answer = ecs.list_servers_details(ListServersDetailsRequest(server_id=",".join(ids)))
    assert answer.count == len(ids), answer.count
    return {s.id: (s.status, s.os_ext_st_stask_state) for s in answer.servers}


def expect_states(ecs, ids, status, task_state=None):
    got = states(ecs, ids)
    for server_id in ids:
        assert got[server_id] == (status, task_state), (server_id, got[server_id], status, task_state)


def wait_success(ecs, job_id, ids):
    """Shows the job until it ends; asserts SUCCESS with one SUCCESS sub-job per server."""
    deadline = time.monotonic() + JOB_DEADLINE_SECS
    while True:
        job = ecs.show_job(ShowJobRequest(job_id=job_id))
        assert job.job_id == job_id, job.job_id
        if job.status in ("SUCCESS", "FAIL"):
            break
        assert job.status in ("INIT", "RUNNING"), job.status
        assert time.monotonic() < deadline, f"job {job_id} still {job.status}"
        time.sleep(0.05)
    assert job.status == "SUCCESS", (job.status, job.error_code, job.fail_reason)
    assert job.entities.sub_jobs_total == len(ids), job.entities.sub_jobs_total
    subs = {s.entities.server_id: s for s in job.entities.sub_jobs}
    assert sorted(subs) == sorted(ids), sorted(subs)
    for sub in subs.values():
        assert sub.status == "SUCCESS" and sub.error_code is None, sub


def server_refs(ids):
    return [ServerId(id=i) for i in ids]


def start(ecs, ids):
    body = BatchStartServersRequestBody(os_start=BatchStartServersOption(servers=server_refs(ids)))
    return ecs.batch_start_servers(BatchStartServersRequest(body=body)).job_id


def stop(ecs, ids, power_type):
    option = BatchStopServersOption(servers=server_refs(ids), type=power_type)
    body = BatchStopServersRequestBody(os_stop=option)
    return ecs.batch_stop_servers(BatchStopServersRequest(body=body)).job_id


def reboot(ecs, ids, power_type):
    # The SDK's own spelling: BatchRebootSeversOption.
    option = BatchRebootSeversOption(servers=server_refs(ids), type=power_type)
    body = BatchRebootServersRequestBody(reboot=option)
    return ecs.batch_reboot_servers(BatchRebootServersRequest(body=body)).job_id


def reboot_without_type_is_refused(ecs, ids):
    """The SDK sends no `type` when it is unset; the service (ecs-sim) must refuse that."""
    try:
        job_id = reboot(ecs, ids, None)
    except ClientRequestException as e:
        assert e.status_code == 400, e.status_code
        assert e.error_code == "Ecs.0005", e.error_code
        assert "type" in e.error_msg, e.error_msg
    except ValueError:
        pass  # refused by the SDK itself: also a refusal
    else:
        raise AssertionError(f"a reboot without type was accepted: job {job_id}")
    expect_states(ecs, ids, "ACTIVE")


def listed(ecs, **filters):
    """The ids of one page of servers listed with `filters`, and the answer's count."""
    answer = ecs.list_servers_details(ListServersDetailsRequest(**filters))
    return [s.id for s in answer.servers], answer.count


def list_with_filters(ecs, ids):
    """The filters of ListServersDetails over the shaped fleet: server i is `web-i`, tagged
    env=prod and team=a (even i) or env=staging (odd i), of flavor s6.small.1 (even i) or
    c7.large.2 (odd i), with the private IP 10.0.0.(i+1)."""
    even, odd = ids[0::2], ids[1::2]
    assert listed(ecs, tags="env=prod") == (even, len(even))
    assert listed(ecs, not_tags="env=prod") == (odd, len(odd))
    assert listed(ecs, name="web-.", limit=1000)[1] == len(ids)
    assert listed(ecs, flavor="c7.large.2", status="SHUTOFF") == (odd, len(odd))
    assert listed(ecs, ip_eq="10.0.0.1") == (ids[:1], 1)
    assert listed(ecs, enterprise_project_id="all_granted_eps")[1] == len(ids)
    first, count = listed(ecs, limit=2)
    rest, _ = listed(ecs, limit=2, marker=first[-1])
    assert first + rest == ids[:4] and count == len(ids), (first, rest, count)
    answer = ecs.list_servers_details(ListServersDetailsRequest(server_id=ids[0]))
    server = answer.servers[0]
    assert server.name == "web-0" and server.tags == ["env=prod", "team=a"], server
    assert server.flavor.id == "s6.small.1", server.flavor
    assert server.os_ext_a_zavailability_zone == "cn-north-4a", server
    assert server.enterprise_project_id == "0", server.enterprise_project_id
    try:
        listed(ecs, limit=1001)
    except ClientRequestException as e:
        assert (e.status_code, e.error_code) == (400, "Ecs.0005"), e
    else:
        raise AssertionError("a limit of 1001 was accepted")


def main(url, project_id, ids):
    assert len(ids) >= 4, "needs four servers"
    ecs = client(url, project_id)
    list_with_filters(ecs, ids)
    expect_states(ecs, ids, "SHUTOFF")

    job = start(ecs, ids)
    expect_states(ecs, ids, "SHUTOFF", "powering-on")
    wait_success(ecs, job, ids)
    expect_states(ecs, ids, "ACTIVE")

    soft, hard = ids[:2], ids[2:]
    job = reboot(ecs, soft, "SOFT")
    expect_states(ecs, soft, "REBOOT", "rebooting")
    wait_success(ecs, job, soft)
    job = reboot(ecs, hard, "HARD")
    expect_states(ecs, hard, "HARD_REBOOT", "rebooting_hard")
    wait_success(ecs, job, hard)
    expect_states(ecs, ids, "ACTIVE")

    reboot_without_type_is_refused(ecs, ids)

    job = stop(ecs, soft, "SOFT")
    expect_states(ecs, soft, "ACTIVE", "powering-off")
    wait_success(ecs, job, soft)
    job = stop(ecs, hard, "HARD")
    expect_states(ecs, hard, "ACTIVE", "powering-off")
    wait_success(ecs, job, hard)
    expect_states(ecs, ids, "SHUTOFF")
    print("drive_sim: every check held")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit("usage: drive_sim.py URL PROJECT_ID SERVER_ID...")
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
