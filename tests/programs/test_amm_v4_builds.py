"""Test builds of amm_v4.c on localnet: "legacy-only" (like the real program before tags 16/17 were added
on 2025-09-22) refuses tags 16/17 with InvalidInstructionData and trades tags 9/11; "neither" refuses
all four; "v2-only" the reverse of legacy-only. The builds are compiled here with clang-16 into a temporary
directory (`amm_v4_accounts.build_variant`): only the full build is committed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from amm_v4_env import FORMS, AmmV4Env, amm_v4_chain

from localnet.programs import amm_v4_accounts as aa
from localnet.programs import program_path
from localnet.programs.amm_v4_errors import INVALID_INSTRUCTION_DATA
from rpc.client import RpcClient
from strategies.venues import raydium_amm_v4 as rv

pytestmark = pytest.mark.localnet

ACCEPTS = {
    "full": {"v2", "legacy", "legacy18"},
    "legacy-only": {"legacy", "legacy18"},
    "v2-only": {"v2"},
    "neither": set(),
}


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("amm_v4_builds")
    return {v: aa.build_variant(v, out / v) for v in ("legacy-only", "v2-only", "neither")} | {
        "full": program_path("amm_v4")
    }


def test_each_build_is_its_own_binary(builds: dict[str, Path]) -> None:
    images = {v: p.read_bytes() for v, p in builds.items()}
    assert len(set(images.values())) == len(images)
    with pytest.raises(ValueError, match="unknown AMM v4 build 'v3'"):
        aa.build_variant("v3", Path("/nonexistent"))


@pytest.mark.parametrize("variant", list(ACCEPTS))
async def test_builds_take_exactly_their_instruction_forms(
    localnet: Any, builds: dict[str, Path], variant: str
) -> None:
    async with RpcClient(localnet.rpc_url) as client:
        env = AmmV4Env(amm_v4_chain(localnet, client, builds[variant]))
        for form in FORMS:
            for base_in in (True, False):
                label = f"{variant}: {form} {'base in' if base_in else 'base out'}"
                env.seed(coin_vault=10**13, pc_vault=4 * 10**12, user_coin=10**12, user_pc=0)
                info = await env.info()
                q = (rv.swap_base_in(10**9, 10**13, 4 * 10**12, 25, 10_000) if base_in
                     else rv.swap_base_out(10**8, 10**13, 4 * 10**12, 25, 10_000))  # fmt: skip
                ix = env.swap_ix(info, form, base_in, True, q.amount_in, q.amount_out)
                before = await env.snapshot()
                out = await env.send(ix)
                after = await env.snapshot()
                if form in ACCEPTS[variant]:
                    assert out.ok, (label, out.error)
                    assert (before["user_coin"] - after["user_coin"], after["user_pc"]) == (
                        q.amount_in,
                        q.amount_out,
                    ), label
                else:
                    assert out.builtin_error == INVALID_INSTRUCTION_DATA, (label, out.error)
                    assert after == before, label
