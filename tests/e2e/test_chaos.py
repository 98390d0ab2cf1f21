"""The short chaos run of `make test` (the full one: `python -m bench --only chaos`,
docs/chaos.md): a few hundred card and SBP payments through Init, the bank's pay and its
notifications while the sandbox duplicates, reorders and drops some of them and answers
bursts of 429/500, and one Odoo worker is killed; then nothing lost, nothing doubled."""

from bench import chaos

PAYMENTS = 200


def test_short_chaos_run_loses_and_doubles_nothing(acq):
    result = chaos.drive(
        acq,
        count=PAYMENTS,
        time_bound=110,
        chaos=chaos.SHORT_CHAOS,
        check_minutes=0,  # the GetState job looks at every unsettled payment each minute
        settle_s=150,
        rates={"drop_rate": 0.05},  # a few hundred payments: enough drops for sure
        log=print,
    )
    print(chaos.report(result))
    # every fault did happen, and the worker was killed
    assert [what for _, what in result["events"] if "SIGKILL" in what], result["events"]
    assert not result["missed_chaos"]
    for fault in ("duplicated", "reordered", "dropped", "bursts"):
        assert result[fault] > 0, (fault, result)
    assert result["paid"] > 50 and result["confirmed"] == result["paid"]
    assert not chaos.failed(result), chaos.failed(result)
    assert result["recovered"] == result["dropped_confirmed"] > 0
    assert result["refunded"] == result["refunds_asked"] > 0
