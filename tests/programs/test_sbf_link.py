"""Unit tests of the post-linker on hand-built relocatable objects (no compiler needed), plus an
end-to-end check that a clang-16 program linked by it loads and runs in LiteSVM."""

from __future__ import annotations

import itertools
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.transaction import Transaction
from solders.transaction_metadata import FailedTransactionMetadata

from localnet.sbf import LinkError, link
from localnet.sbf import linker as lk
from localnet.sbf.build import CFLAGS, find_tool

EXIT = bytes([0x95, 0, 0, 0, 0, 0, 0, 0])
MOV_R0_0 = bytes([0xB7, 0, 0, 0, 0, 0, 0, 0])


def lddw(dst: int, imm: int) -> bytes:
    return bytes([0x18, dst, 0, 0]) + struct.pack("<i", imm) + bytes(4) + struct.pack("<I", 0)


def call(imm: int = -1) -> bytes:
    return bytes([0x85, 0x10, 0, 0]) + struct.pack("<i", imm)


@dataclass
class Obj:
    """A tiny ELF64 relocatable object writer: sections, symbols, REL relocations."""

    sections: list[tuple[str, int, int, bytes, int]] = field(
        default_factory=list
    )  # name, type, flags, data, align
    symbols: list[tuple[str, int, int, int]] = field(default_factory=list)  # name, info, shndx, value
    rels: dict[int, list[tuple[int, int, int]]] = field(default_factory=dict)  # target -> (offset, type, sym)

    def section(self, name: str, data: bytes, *, flags: int = lk.SHF_ALLOC, typ: int = lk.SHT_PROGBITS,
                align: int = 8) -> int:  # fmt: skip
        self.sections.append((name, typ, flags, data, align))
        return len(self.sections)  # index (0 is the null section)

    def symbol(self, name: str, shndx: int, value: int = 0, info: int = 0x12) -> int:
        self.symbols.append((name, info, shndx, value))
        return len(self.symbols)  # index (0 is the null symbol)

    def rel(self, target: int, offset: int, typ: int, sym: int) -> None:
        self.rels.setdefault(target, []).append((offset, typ, sym))

    def build(self) -> bytes:
        strtab = bytearray(b"\0")
        syms = bytearray(lk.SYM.size)
        for name, info, shndx, value in self.symbols:
            syms += lk.SYM.pack(len(strtab), info, 0, shndx, value, 0)
            strtab += name.encode() + b"\0"
        secs = list(self.sections)
        n_user = len(secs)
        symtab_idx = n_user + 1
        strtab_idx = n_user + 2
        for target, rels in self.rels.items():
            data = b"".join(lk.REL.pack(o, (s << 32) | t) for o, t, s in rels)
            secs.append((".rel" + self.sections[target - 1][0], lk.SHT_REL, 0, data, 8))
        all_secs = [*secs[:n_user], (".symtab", lk.SHT_SYMTAB, 0, bytes(syms), 8),
                    (".strtab", lk.SHT_STRTAB, 0, bytes(strtab), 1), *secs[n_user:]]  # fmt: skip
        rel_targets = list(self.rels)
        all_secs.append((".shstrtab", lk.SHT_STRTAB, 0, b"", 1))
        shstr = bytearray(b"\0")
        names = []
        for s in all_secs:
            names.append(len(shstr))
            shstr += s[0].encode() + b"\0"
        all_secs[-1] = (".shstrtab", lk.SHT_STRTAB, 0, bytes(shstr), 1)
        out = bytearray(lk.EHDR.size)
        offsets = []
        for s in all_secs:
            while len(out) % 8:
                out.append(0)
            offsets.append(len(out))
            out += s[3]
        while len(out) % 8:
            out.append(0)
        shoff = len(out)
        shdrs = [lk.SHDR.pack(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)]
        for i, (_name, typ, flags, data, align) in enumerate(all_secs):
            link_, info = 0, 0
            if typ == lk.SHT_SYMTAB:
                link_, info = strtab_idx, 1
            if typ == lk.SHT_REL:
                link_, info = symtab_idx, rel_targets[i - (n_user + 2)]
            entsize = {lk.SHT_SYMTAB: lk.SYM.size, lk.SHT_REL: lk.REL.size}.get(typ, 0)
            size = len(data) if typ != lk.SHT_NOBITS else 64
            shdrs.append(lk.SHDR.pack(names[i], typ, flags, 0, offsets[i], size, link_, info, align, entsize))
        out += b"".join(shdrs)
        ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
        out[: lk.EHDR.size] = lk.EHDR.pack(ident, lk.ET_REL, lk.EM_BPF, 1, 0, 0, shoff, 0, lk.EHDR.size, 0, 0,
                                           lk.SHDR.size, len(shdrs), len(all_secs))  # fmt: skip
        return bytes(out)


TEXT_FLAGS = lk.SHF_ALLOC | lk.SHF_EXECINSTR


def basic_obj() -> Obj:
    """.text: entrypoint = lddw r1, .rodata+8; call sol_log_; call helper; exit. helper: r0=0; exit."""
    o = Obj()
    text = o.section(
        ".text", lddw(1, 8) + call() + call() + MOV_R0_0 + EXIT + MOV_R0_0 + EXIT, flags=TEXT_FLAGS
    )
    ro = o.section(".rodata", b"ABCDEFGH" + b"hello!\0\0" + bytes(8))
    o.symbol("entrypoint", text, 0)
    helper = o.symbol("helper", text, 48, info=0x12)
    ro_sym = o.symbol(".rodata", ro, 0, info=0x03)
    log = o.symbol("sol_log_", 0, 0, info=0x10)
    o.rel(text, 0, lk.R_BPF_64_64, ro_sym)
    o.rel(text, 16, lk.R_BPF_64_32, log)
    o.rel(text, 24, lk.R_BPF_64_32, helper)
    o.rel(ro, 16, lk.R_BPF_64_ABS64, ro_sym)  # pointer table entry -> .rodata+0 (addend in place)
    return o


def sections_of(image: bytes) -> dict[str, tuple[int, int, int, int, int, int]]:
    """name -> (type, flags, addr, offset, size, link)."""
    (*_, shoff, _f, _eh, _pe, _pn, _se, shnum, shstrndx) = lk.EHDR.unpack_from(image)
    hdrs = [lk.SHDR.unpack_from(image, shoff + i * lk.SHDR.size) for i in range(shnum)]
    shstr = hdrs[shstrndx]
    table = image[shstr[4] : shstr[4] + shstr[5]]
    out = {}
    for h in hdrs[1:]:
        name = table[h[0] : table.index(b"\0", h[0])].decode()
        out[name] = (h[1], h[2], h[3], h[4], h[5], h[6])
    return out


def test_layout_header_and_program_headers() -> None:
    res = link(basic_obj().build())
    img = res.image
    ident, e_type, machine, _v, entry, phoff, _shoff, flags, *_ = lk.EHDR.unpack_from(img)
    assert ident[:4] == b"\x7fELF" and (e_type, machine, flags) == (lk.ET_DYN, lk.EM_BPF, 0)
    secs = sections_of(img)
    names = list(secs)
    assert names == [".text", ".rodata", ".dynamic", ".dynsym", ".dynstr", ".rel.dyn", ".shstrtab"]
    loaded = [secs[n] for n in names[:-1]]
    assert all(addr == off for _t, _f, addr, off, _s, _l in loaded), "loaded sections: address == file offset"
    spans = [(off, off + size) for _t, _f, _a, off, size, _l in loaded]
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans)), "ascending and non-overlapping"
    assert secs[".text"][2] % 8 == 0 and secs[".dynamic"][2] % 8 == 0 and secs[".dynsym"][2] % 8 == 0
    assert entry == secs[".text"][2] == res.entry
    assert (
        secs[".dynsym"][5] == names.index(".dynstr") + 1 and secs[".rel.dyn"][5] == names.index(".dynsym") + 1
    )
    phdrs = [lk.PHDR.unpack_from(img, phoff + i * lk.PHDR.size) for i in range(3)]
    assert [p[0] for p in phdrs] == [lk.PT_LOAD, lk.PT_LOAD, lk.PT_DYNAMIC]
    assert phdrs[0][1] == lk.PF_R | lk.PF_X and phdrs[0][2] == secs[".text"][3]
    assert phdrs[1][2] == secs[".rodata"][3] and phdrs[2][2] == secs[".dynamic"][3]
    assert all(p[2] == p[3] == p[4] for p in phdrs)


def test_relocation_kinds() -> None:
    res = link(basic_obj().build())
    img, (t0, _), (r0, _) = res.image, res.text_range, res.rodata_range
    # R_BPF_64_64 on lddw: MM_PROGRAM_START + .rodata + addend(8), split over the two immediates.
    lo, hi = struct.unpack_from("<I", img, t0 + 4)[0], struct.unpack_from("<I", img, t0 + 12)[0]
    assert (hi << 32 | lo) == lk.MM_PROGRAM_START + r0 + 8
    # R_BPF_64_32 to a syscall: imm stays -1, one .dynsym entry, one type-10 .rel.dyn entry.
    assert struct.unpack_from("<i", img, t0 + 16 + 4)[0] == -1
    assert res.syscalls == ["sol_log_"]
    secs = sections_of(img)
    rel_off, rel_size = secs[".rel.dyn"][3], secs[".rel.dyn"][4]
    rels = [lk.REL.unpack_from(img, rel_off + i * 16) for i in range(rel_size // 16)]
    assert rels == [(t0 + 16, (1 << 32) | lk.R_BPF_64_32)]
    dynstr = img[secs[".dynstr"][3] : secs[".dynstr"][3] + secs[".dynstr"][4]]
    name_off = lk.SYM.unpack_from(img, secs[".dynsym"][3] + lk.SYM.size)[0]
    assert dynstr[name_off:].split(b"\0")[0] == b"sol_log_"
    # R_BPF_64_32 to a defined function: pc-relative in instruction slots, no dynamic relocation.
    assert struct.unpack_from("<i", img, t0 + 24 + 4)[0] == (48 - (24 + 8)) // 8
    # R_BPF_64_ABS64 in .rodata: absolute address (addend read in place, here 0).
    assert struct.unpack_from("<Q", img, r0 + 16)[0] == lk.MM_PROGRAM_START + r0


def test_no_relocations_omits_rel_dyn() -> None:
    o = Obj()
    text = o.section(".text", MOV_R0_0 + EXIT, flags=TEXT_FLAGS)
    o.symbol("entrypoint", text)
    img = link(o.build()).image
    assert ".rel.dyn" not in sections_of(img)
    secs = sections_of(img)
    dyn = [lk.DYN.unpack_from(img, secs[".dynamic"][3] + i * 16) for i in range(secs[".dynamic"][4] // 16)]
    assert lk.DT_REL not in [t for t, _ in dyn] and lk.DT_RELSZ not in [t for t, _ in dyn]
    assert dyn[-1] == (lk.DT_NULL, 0)
    # The loader accepts it and runs it (returns 0).
    svm = LiteSVM()
    pid = Pubkey.new_unique()
    svm.add_program(pid, img)
    payer = Keypair()
    svm.airdrop(payer.pubkey(), 10**9)
    tx = Transaction([payer], Message([Instruction(pid, b"", [])], payer.pubkey()), svm.latest_blockhash())
    assert not isinstance(svm.send_transaction(tx), FailedTransactionMetadata)


@pytest.mark.parametrize("name,flags,typ", [(".data", lk.SHF_ALLOC | lk.SHF_WRITE, lk.SHT_PROGBITS),
                                            (".bss", lk.SHF_ALLOC | lk.SHF_WRITE, lk.SHT_NOBITS)])  # fmt: skip
def test_writable_and_zero_fill_sections_are_refused(name: str, flags: int, typ: int) -> None:
    o = basic_obj()
    o.section(name, bytes(8), flags=flags, typ=typ)
    with pytest.raises(LinkError, match=name.replace(".", r"\.")):
        link(o.build())


@pytest.mark.parametrize(
    ("target", "typ", "match"),
    [
        ("text", lk.R_BPF_64_ABS64, "unhandled relocation type 2"),
        ("rodata", lk.R_BPF_64_ABS32, "unhandled relocation type 3"),
        ("rodata", lk.R_BPF_64_64, "unhandled relocation type 1"),
        ("text", 99, "unhandled relocation type 99"),
        ("text", lk.R_BPF_64_NODYLD32, "unhandled relocation type 4"),
    ],
)
def test_unknown_relocations_are_refused(target: str, typ: int, match: str) -> None:
    o = basic_obj()
    o.rel(1 if target == "text" else 2, 8 if target == "text" else 0, typ, 3)
    with pytest.raises(LinkError, match=match):
        link(o.build())


def test_relocation_on_the_wrong_instruction_is_refused() -> None:
    o = basic_obj()
    o.rel(1, 32, lk.R_BPF_64_64, 3)  # a mov, not an lddw
    with pytest.raises(LinkError, match="not on an lddw"):
        link(o.build())
    o = basic_obj()
    o.rel(1, 32, lk.R_BPF_64_32, 2)  # a mov, not a call
    with pytest.raises(LinkError, match="not on a call"):
        link(o.build())


def test_debug_section_relocations_are_dropped() -> None:
    o = basic_obj()
    dbg = o.section(".debug_info", bytes(16), flags=0, align=1)
    o.rel(dbg, 0, lk.R_BPF_64_NODYLD32, 3)
    o.rel(dbg, 8, lk.R_BPF_64_ABS64, 3)
    assert link(o.build()).image == link(basic_obj().build()).image


def test_missing_entrypoint_and_stray_syscall_marker_are_refused() -> None:
    o = Obj()
    o.section(".text", MOV_R0_0 + EXIT, flags=TEXT_FLAGS)
    o.symbol("main", 1)
    with pytest.raises(LinkError, match="entrypoint"):
        link(o.build())
    o = Obj()
    text = o.section(".text", call() + EXIT, flags=TEXT_FLAGS)  # call -1 with no relocation
    o.symbol("entrypoint", text)
    with pytest.raises(LinkError, match="call -1 without a relocation"):
        link(o.build())


def test_not_an_object_is_refused() -> None:
    with pytest.raises(LinkError, match="not an ELF"):
        link(b"hello")
    so = link(basic_obj().build()).image
    with pytest.raises(LinkError, match="ET_REL"):
        link(so)


C_PROGRAM = r"""
typedef unsigned long u64;
extern void sol_log_(const char *, u64);
static const char *const names[2] = {"zero", "one"};
__attribute__((noinline)) u64 pick(u64 x) { return x & 1; }
u64 entrypoint(const unsigned char *input) {
    u64 n = *(const u64 *)input;          /* account count: 0 */
    sol_log_(names[pick(n + 1)], 3);      /* pointer table in .rodata (R_BPF_64_ABS64) */
    return n + 42;                        /* Custom(42) */
}
"""


def test_clang_program_links_loads_and_runs(tmp_path: Path) -> None:
    """clang-16 output through the post-linker runs in LiteSVM: syscall, rodata pointers, calls."""
    src = tmp_path / "t.c"
    src.write_text(C_PROGRAM)
    subprocess.run([find_tool("clang-16"), *CFLAGS, "-c", "t.c", "-o", "t.o"], cwd=tmp_path, check=True)
    image = link((tmp_path / "t.o").read_bytes()).image
    svm = LiteSVM()
    pid = Pubkey.new_unique()
    svm.add_program(pid, image)
    payer = Keypair()
    svm.airdrop(payer.pubkey(), 10**9)
    tx = Transaction([payer], Message([Instruction(pid, b"", [])], payer.pubkey()), svm.latest_blockhash())
    res = svm.send_transaction(tx)
    logs = list(res.meta().logs())
    assert "Program log: one" in logs
    assert "Custom(42)" in str(res.err())
