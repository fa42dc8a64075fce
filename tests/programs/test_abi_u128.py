"""abi.h's 128-bit helpers, run in the sBPF VM against Python integers.

A tiny program (compiled here with the pinned clang-16, linked by our post-linker) reads operands from
the instruction data and returns every helper's result with sol_set_return_data; hypothesis drives
the operands over all magnitudes, including the rare paths (divisor above 2**64, quotient above 2**64).
"""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.transaction import Transaction

from localnet.programs import PROGRAMS_DIR
from localnet.sbf import link
from localnet.sbf.build import CFLAGS, find_tool

PROGRAM = r"""
#include "abi.h"

/* data: n (u128), d (u128), a (u64), b (u64); returns q, r, a*b, n*b (+ok), n+d (+ok), n-d (+ok). */
u64 entrypoint(const u8 *input) {
    SolParameters *p = (SolParameters *)HEAP_START;
    if (sol_deserialize(input, p) || p->data_len != 48) return 1;
    const u8 *x = p->data;
    u128 n = {ld_u64(x), ld_u64(x + 8)}, d = {ld_u64(x + 16), ld_u64(x + 24)};
    u64 a = ld_u64(x + 32), b = ld_u64(x + 40);
    u8 *out = HEAP_START + sizeof(SolParameters);
    u128 q = {0, 0}, r = {0, 0}, m, nb, s, t;
    if (!is_zero_128(&d)) divmod_128(&n, &d, &q, &r);
    mul_64x64(a, b, &m);
    u64 ok_nb = mul_128x64(&n, b, &nb);
    u64 ok_s = add_128(&n, &d, &s);
    u64 ok_t = sub_128(&n, &d, &t);
    u128 vals[6] = {q, r, m, nb, s, t};
    for (int i = 0; i < 6; i++) {
        st_u64(out + 16 * i, vals[i].lo);
        st_u64(out + 16 * i + 8, vals[i].hi);
    }
    out[96] = (u8)ok_nb;
    out[97] = (u8)ok_s;
    out[98] = (u8)ok_t;
    sol_set_return_data(out, 99);
    return 0;
}
"""

U64, U128 = (1 << 64) - 1, (1 << 128) - 1


@pytest.fixture(scope="module")
def vm(tmp_path_factory: pytest.TempPathFactory) -> tuple[LiteSVM, Pubkey, Keypair]:
    tmp: Path = tmp_path_factory.mktemp("abi")
    (tmp / "t.c").write_text(PROGRAM)
    subprocess.run([find_tool("clang-16"), *CFLAGS, "-I", str(PROGRAMS_DIR), "-c", "t.c", "-o", "t.o"],
                   cwd=tmp, check=True)  # fmt: skip
    svm = LiteSVM()
    pid = Pubkey.new_unique()
    svm.add_program(pid, link((tmp / "t.o").read_bytes()).image)
    payer = Keypair()
    svm.airdrop(payer.pubkey(), 10**12)
    return svm, pid, payer


def run(vm: tuple[LiteSVM, Pubkey, Keypair], n: int, d: int, a: int, b: int) -> tuple[list[int], bytes]:
    svm, pid, payer = vm
    data = struct.pack("<QQQQQQ", n & U64, n >> 64, d & U64, d >> 64, a, b)
    svm.expire_blockhash()  # identical operands may repeat: a fresh blockhash keeps signatures distinct
    tx = Transaction([payer], Message([Instruction(pid, data, [])], payer.pubkey()), svm.latest_blockhash())
    res = svm.send_transaction(tx)
    raw = bytes(res.return_data().data)
    words = struct.unpack_from("<12Q", raw)
    return [words[2 * i] | words[2 * i + 1] << 64 for i in range(6)], raw[96:99]


def magnitude(bits: int) -> st.SearchStrategy[int]:
    return st.integers(0, bits).flatmap(lambda k: st.integers(0, (1 << k) - 1))


@settings(max_examples=400, deadline=None)
@given(n=magnitude(128), d=magnitude(128), a=magnitude(64), b=magnitude(64))
def test_u128_helpers_match_python(
    vm: tuple[LiteSVM, Pubkey, Keypair], n: int, d: int, a: int, b: int
) -> None:
    (q, r, m, nb, s, t), flags = run(vm, n, d, a, b)
    if d:
        assert (q, r) == divmod(n, d)
    assert m == a * b
    assert flags[0] == (n * b <= U128) and (flags[0] == 0 or nb == n * b)
    assert flags[1] == (n + d <= U128) and (flags[1] == 0 or s == n + d)
    assert flags[2] == (n >= d) and (flags[2] == 0 or t == n - d)


@pytest.mark.parametrize(
    ("n", "d"),
    [
        (U128, 1), (U128, U64), (U128, 1 << 64), (U128, U128), (1 << 127, 3), ((1 << 96) + 12345, (1 << 64) + 1),
        (U64 * U64, U64), ((1 << 64) - 1 << 64, (1 << 63) + 1), (10**30, 10**6), (0, 7), (5, 1 << 100),
    ],
)  # fmt: skip
def test_division_edges(vm: tuple[LiteSVM, Pubkey, Keypair], n: int, d: int) -> None:
    (q, r, *_), _ = run(vm, n, d, 0, 0)
    assert (q, r) == divmod(n, d)
