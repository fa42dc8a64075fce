"""Post-linker: clang-16's relocatable BPF object in, loadable sBPF v0 shared object out.

A stock ``ld.lld -shared`` cannot produce what the Solana v0 loader wants (it refuses R_BPF_64_64
against local symbols and does not know relocation 10), so this module lays the ELF out itself.
The facts it relies on were verified against the loader in solders' LiteSVM (solana-sbpf 0.10.0);
see ``/work/shared/notes/sbpf-from-c.md``. Anything it does not understand raises ``LinkError``
rather than producing a binary that would misbehave at run time.

Output layout (every loaded section has address == file offset):
ELF header | 3 program headers | .text | .rodata | .dynamic | .dynsym | .dynstr | [.rel.dyn]
| .shstrtab | section header table.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from localnet.sbf.errors import LinkError

# --- ELF constants (System V gABI; BPF psABI in LLVM's BPF backend docs) ---
ET_REL, ET_DYN = 1, 3
EM_BPF = 247
SHT_NULL, SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_RELA = 0, 1, 2, 3, 4
SHT_DYNAMIC, SHT_NOBITS, SHT_REL, SHT_DYNSYM = 6, 8, 9, 11
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 0x1, 0x2, 0x4
SHN_UNDEF, SHN_ABS, SHN_COMMON = 0, 0xFFF1, 0xFFF2
STT_SECTION, STT_FUNC = 3, 2
PT_LOAD, PT_DYNAMIC = 1, 2
PF_X, PF_R = 1, 4
DT_NULL, DT_STRTAB, DT_SYMTAB, DT_STRSZ, DT_SYMENT = 0, 5, 6, 10, 11
DT_REL, DT_RELSZ, DT_RELENT, DT_TEXTREL = 17, 18, 19, 22

R_BPF_NONE = 0
R_BPF_64_64 = 1
R_BPF_64_ABS64 = 2
R_BPF_64_ABS32 = 3
R_BPF_64_NODYLD32 = 4
R_BPF_64_RELATIVE = 8
R_BPF_64_32 = 10

OP_LDDW = 0x18
OP_CALL = 0x85
MM_PROGRAM_START = 0x1_0000_0000  # where the loader maps the ELF; absolute pointers are relative to it
ENTRYPOINT = "entrypoint"
MAX_SECTION_NAME = 15  # the v0 loader refuses longer section names
MAX_SYMBOL_NAME = 63

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
SHDR = struct.Struct("<IIQQQQIIQQ")
PHDR = struct.Struct("<IIQQQQQQ")
SYM = struct.Struct("<IBBHQQ")
REL = struct.Struct("<QQ")
DYN = struct.Struct("<qQ")
U32 = struct.Struct("<I")
I32 = struct.Struct("<i")
U64 = struct.Struct("<Q")


@dataclass(frozen=True)
class Section:
    index: int
    name: str
    type: int
    flags: int
    offset: int
    size: int
    link: int
    info: int
    align: int
    entsize: int
    data: bytes


@dataclass(frozen=True)
class Symbol:
    name: str
    info: int
    shndx: int
    value: int

    @property
    def type(self) -> int:
        return self.info & 0xF


@dataclass(frozen=True)
class Relocation:
    offset: int
    type: int
    sym: int


@dataclass
class LinkResult:
    """The loadable image plus facts tests and tools want to inspect."""

    image: bytes
    text_range: tuple[int, int]
    rodata_range: tuple[int, int]
    entry: int
    syscalls: list[str] = field(default_factory=list)


def _cstr(table: bytes, off: int, what: str) -> str:
    end = table.find(b"\0", off)
    if off >= len(table) or end < 0:
        raise LinkError(what, f"string offset {off} outside its string table")
    return table[off:end].decode("ascii", errors="strict")


def _align(n: int, a: int) -> int:
    a = max(a, 1)
    return (n + a - 1) // a * a


def parse_object(obj: bytes) -> tuple[list[Section], list[Symbol], dict[int, list[Relocation]]]:
    """Parse an ELF64 LE relocatable BPF object: sections, symbols, relocations per target section."""
    if len(obj) < EHDR.size or obj[:4] != b"\x7fELF":
        raise LinkError("object", "not an ELF file")
    ident = obj[:16]
    if ident[4] != 2 or ident[5] != 1:
        raise LinkError("object", "not ELF64 little-endian")
    (_, e_type, e_machine, _, _, _, e_shoff, _, _, _, _, e_shentsize, e_shnum, e_shstrndx) = EHDR.unpack_from(
        obj
    )
    if e_type != ET_REL:
        raise LinkError("object", f"e_type {e_type}, expected a relocatable object (ET_REL)")
    if e_machine != EM_BPF:
        raise LinkError("object", f"e_machine {e_machine}, expected EM_BPF (247)")
    if e_shentsize != SHDR.size or e_shoff + e_shnum * SHDR.size > len(obj):
        raise LinkError("object", "section header table truncated")
    raw = [SHDR.unpack_from(obj, e_shoff + i * SHDR.size) for i in range(e_shnum)]
    shstr_hdr = raw[e_shstrndx]
    shstr = obj[shstr_hdr[4] : shstr_hdr[4] + shstr_hdr[5]]
    sections: list[Section] = []
    for i, (name, typ, flags, _addr, off, size, link, info, align, entsize) in enumerate(raw):
        data = b"" if typ in (SHT_NOBITS, SHT_NULL) else obj[off : off + size]
        if typ not in (SHT_NOBITS, SHT_NULL) and len(data) != size:
            raise LinkError(f"section #{i}", "data truncated")
        sections.append(
            Section(
                i,
                _cstr(shstr, name, f"section #{i}") if i else "",
                typ,
                flags,
                off,
                size,
                link,
                info,
                align,
                entsize,
                data,
            )
        )
    symtabs = [s for s in sections if s.type == SHT_SYMTAB]
    if len(symtabs) != 1:
        raise LinkError("object", f"expected one .symtab, found {len(symtabs)}")
    symtab = symtabs[0]
    strtab = sections[symtab.link].data
    symbols = []
    for k in range(symtab.size // SYM.size):
        st_name, st_info, _other, st_shndx, st_value, _size = SYM.unpack_from(symtab.data, k * SYM.size)
        symbols.append(Symbol(_cstr(strtab, st_name, f"symbol #{k}"), st_info, st_shndx, st_value))
    relocs: dict[int, list[Relocation]] = {}
    for s in sections:
        if s.type == SHT_RELA:
            target = sections[s.info]
            if target.flags & SHF_ALLOC:
                raise LinkError(s.name, "RELA relocations against a loaded section are not handled")
            continue
        if s.type != SHT_REL:
            continue
        if s.link != symtab.index:
            raise LinkError(s.name, "relocations refer to a symbol table other than .symtab")
        lst = relocs.setdefault(s.info, [])
        for k in range(s.size // REL.size):
            r_offset, r_info = REL.unpack_from(s.data, k * REL.size)
            lst.append(Relocation(r_offset, r_info & 0xFFFFFFFF, r_info >> 32))
    return sections, symbols, relocs


def _classify(sections: list[Section]) -> tuple[list[Section], list[Section]]:
    """Split loaded sections into executable and read-only; refuse writable or zero-fill ones."""
    text: list[Section] = []
    rodata: list[Section] = []
    for s in sections:
        if not s.flags & SHF_ALLOC:
            continue  # debug info, .comment, .llvm_addrsig, symbol/string tables: not loaded
        if s.type == SHT_NOBITS or s.flags & SHF_WRITE:
            raise LinkError(
                s.name,
                "writable or zero-fill section (.data/.bss); the sBPF v0 loader refuses "
                "them: make the data const or move it to the heap",
            )
        if s.type != SHT_PROGBITS:
            raise LinkError(s.name, f"loaded section of unhandled type {s.type}")
        (text if s.flags & SHF_EXECINSTR else rodata).append(s)
    if not text:
        raise LinkError("object", "no executable section")
    return text, rodata


def link(obj: bytes) -> LinkResult:
    """Turn one relocatable BPF object (clang-16 -c, or ld.lld -r of several) into an sBPF v0 ELF."""
    sections, symbols, relocs = parse_object(obj)
    text_secs, ro_secs = _classify(sections)

    # --- layout: header, 3 phdrs, then sections at address == offset ---
    cursor = EHDR.size + 3 * PHDR.size
    placed: dict[int, int] = {}  # input section index -> output address
    text_start = cursor = _align(cursor, 8)
    for s in text_secs:
        if s.size % 8:
            raise LinkError(s.name, "executable section size is not a multiple of 8")
        cursor = _align(cursor, max(s.align, 8))
        placed[s.index] = cursor
        cursor += s.size
    text_end = cursor
    ro_start = cursor = _align(cursor, 8)
    for s in ro_secs:
        cursor = _align(cursor, s.align)
        placed[s.index] = cursor
        cursor += s.size
    ro_end = cursor

    image = bytearray(ro_end)
    for s in text_secs + ro_secs:
        image[placed[s.index] : placed[s.index] + s.size] = s.data

    def sym_addr(sym: Symbol, what: str) -> int:
        if sym.shndx in (SHN_UNDEF, SHN_ABS, SHN_COMMON) or sym.shndx >= 0xFF00:
            raise LinkError(what, f"symbol {sym.name!r} is not defined in a loaded section")
        if sym.shndx not in placed:
            raise LinkError(
                what, f"symbol {sym.name!r} lives in non-loaded section {sections[sym.shndx].name!r}"
            )
        return placed[sym.shndx] + sym.value

    syscalls: list[str] = []
    dyn_rels: list[tuple[int, int, int]] = []  # (offset, type, dynsym index)

    for target_idx, rels in relocs.items():
        target = sections[target_idx]
        if not target.flags & SHF_ALLOC:
            # Debug sections carry R_BPF_64_NODYLD32/ABS32/ABS64 into non-loaded data: dropped with them.
            continue
        base = placed[target_idx]
        is_text = bool(target.flags & SHF_EXECINSTR)
        for r in rels:
            what = f"{target.name}+{r.offset:#x}"
            if r.sym >= len(symbols):
                raise LinkError(what, f"relocation names symbol #{r.sym} beyond the symbol table")
            sym = symbols[r.sym]
            p = base + r.offset
            if is_text and r.type == R_BPF_64_64:
                if r.offset + 16 > target.size or image[p] != OP_LDDW:
                    raise LinkError(what, "R_BPF_64_64 not on an lddw instruction")
                addend = I32.unpack_from(image, p + 4)[0]
                value = MM_PROGRAM_START + sym_addr(sym, what) + addend
                U32.pack_into(image, p + 4, value & 0xFFFFFFFF)
                U32.pack_into(image, p + 12, value >> 32)
            elif is_text and r.type == R_BPF_64_32:
                if r.offset + 8 > target.size or image[p] != OP_CALL:
                    raise LinkError(what, "R_BPF_64_32 not on a call instruction")
                if I32.unpack_from(image, p + 4)[0] != -1:
                    raise LinkError(what, "call relocation with a non-placeholder immediate (unknown addend)")
                if sym.shndx == SHN_UNDEF:
                    if not sym.name or len(sym.name) > MAX_SYMBOL_NAME:
                        raise LinkError(what, f"bad syscall name {sym.name!r}")
                    if sym.name not in syscalls:
                        syscalls.append(sym.name)
                    dyn_rels.append((p, R_BPF_64_32, syscalls.index(sym.name) + 1))
                    continue  # imm stays -1: the loader patches in the murmur3 hash of the name
                if sym.type == STT_SECTION:
                    raise LinkError(what, "call through a section symbol is not handled")
                target_addr = sym_addr(sym, what)
                if not text_start <= target_addr < text_end:
                    raise LinkError(what, f"call target {sym.name!r} is not in .text")
                delta = target_addr - (p + 8)
                if delta % 8:
                    raise LinkError(what, f"call target {sym.name!r} is not 8-aligned")
                imm = delta // 8
                if imm == -1:
                    raise LinkError(what, "pc-relative call of -1 would be taken for a syscall")
                I32.pack_into(image, p + 4, imm)
            elif not is_text and r.type == R_BPF_64_ABS64:
                if r.offset + 8 > target.size:
                    raise LinkError(what, "R_BPF_64_ABS64 beyond the end of its section")
                addend = U64.unpack_from(image, p)[0]
                U64.pack_into(image, p, MM_PROGRAM_START + sym_addr(sym, what) + addend)
            elif r.type == R_BPF_NONE:
                continue
            else:
                raise LinkError(
                    what,
                    f"unhandled relocation type {r.type} in "
                    f"{'executable' if is_text else 'read-only'} section",
                )

    _check_no_stray_syscall_markers(image, text_start, text_end, {o for o, _, _ in dyn_rels})

    entry_syms = [s for s in symbols if s.name == ENTRYPOINT and s.shndx not in (SHN_UNDEF,)]
    if len(entry_syms) != 1:
        raise LinkError(ENTRYPOINT, "expected exactly one defined `entrypoint` symbol")
    entry = sym_addr(entry_syms[0], ENTRYPOINT)
    if not text_start <= entry < text_end:
        raise LinkError(ENTRYPOINT, "entrypoint is not in .text")

    return _emit(image, text_start, text_end, ro_start, ro_end, entry, syscalls, dyn_rels)


def _check_no_stray_syscall_markers(image: bytearray, start: int, end: int, syscall_sites: set[int]) -> None:
    """A call with imm -1 and no relocation would be resolved by the loader as an unknown syscall."""
    p = start
    while p < end:
        if image[p] == OP_LDDW:
            p += 16  # two slots; the second is not an instruction
            continue
        if image[p] == OP_CALL and I32.unpack_from(image, p + 4)[0] == -1 and p not in syscall_sites:
            raise LinkError(f".text+{p - start:#x}", "call -1 without a relocation")
        p += 8


def _emit(
    image: bytearray,
    text_start: int,
    text_end: int,
    ro_start: int,
    ro_end: int,
    entry: int,
    syscalls: list[str],
    dyn_rels: list[tuple[int, int, int]],
) -> LinkResult:
    out = image
    has_rel = bool(dyn_rels)

    # .dynstr and .dynsym
    dynstr = bytearray(b"\0")
    name_off = []
    for name in syscalls:
        name_off.append(len(dynstr))
        dynstr += name.encode("ascii") + b"\0"
    dynsym = bytearray(SYM.size)  # null entry
    for off in name_off:
        dynsym += SYM.pack(off, 0x10, 0, SHN_UNDEF, 0, 0)  # STB_GLOBAL, STT_NOTYPE
    reldyn = b"".join(REL.pack(o, (sym << 32) | typ) for o, typ, sym in sorted(dyn_rels))

    n_dyn = 9 if has_rel else 5  # 4 table entries (+ 4 relocation entries) + DT_NULL
    dynamic_off = _align(len(out), 8)
    dynsym_off = _align(dynamic_off + n_dyn * DYN.size, 8)
    dynstr_off = dynsym_off + len(dynsym)
    reldyn_off = _align(dynstr_off + len(dynstr), 8)
    load_end = reldyn_off + len(reldyn) if has_rel else dynstr_off + len(dynstr)

    entries = [
        (DT_SYMTAB, dynsym_off),
        (DT_SYMENT, SYM.size),
        (DT_STRTAB, dynstr_off),
        (DT_STRSZ, len(dynstr)),
    ]
    if has_rel:
        entries += [(DT_REL, reldyn_off), (DT_RELSZ, len(reldyn)), (DT_RELENT, REL.size), (DT_TEXTREL, 0)]
    entries.append((DT_NULL, 0))
    assert len(entries) == n_dyn
    dynamic = b"".join(DYN.pack(t, v) for t, v in entries)

    def put(off: int, blob: bytes) -> None:
        if len(out) < off:
            out.extend(b"\0" * (off - len(out)))
        out[off : off + len(blob)] = blob

    put(dynamic_off, dynamic)
    put(dynsym_off, bytes(dynsym))
    put(dynstr_off, bytes(dynstr))
    if has_rel:
        put(reldyn_off, reldyn)

    names = (
        [".text", ".rodata", ".dynamic", ".dynsym", ".dynstr"]
        + ([".rel.dyn"] if has_rel else [])
        + [".shstrtab"]
    )
    shstrtab = bytearray(b"\0")
    name_at = {}
    for n in names:
        assert len(n) <= MAX_SECTION_NAME
        name_at[n] = len(shstrtab)
        shstrtab += n.encode() + b"\0"
    shstrtab_off = len(out)
    put(shstrtab_off, bytes(shstrtab))
    shoff = _align(len(out), 8)

    idx = {n: i + 1 for i, n in enumerate(names)}
    shdrs = [SHDR.pack(0, SHT_NULL, 0, 0, 0, 0, 0, 0, 0, 0)]
    shdrs.append(
        SHDR.pack(
            name_at[".text"],
            SHT_PROGBITS,
            SHF_ALLOC | SHF_EXECINSTR,
            text_start,
            text_start,
            text_end - text_start,
            0,
            0,
            8,
            0,
        )
    )
    shdrs.append(
        SHDR.pack(
            name_at[".rodata"], SHT_PROGBITS, SHF_ALLOC, ro_start, ro_start, ro_end - ro_start, 0, 0, 8, 0
        )
    )
    shdrs.append(
        SHDR.pack(
            name_at[".dynamic"],
            SHT_DYNAMIC,
            SHF_ALLOC,
            dynamic_off,
            dynamic_off,
            len(dynamic),
            idx[".dynstr"],
            0,
            8,
            DYN.size,
        )
    )
    shdrs.append(
        SHDR.pack(
            name_at[".dynsym"],
            SHT_DYNSYM,
            SHF_ALLOC,
            dynsym_off,
            dynsym_off,
            len(dynsym),
            idx[".dynstr"],
            1,
            8,
            SYM.size,
        )
    )
    shdrs.append(
        SHDR.pack(name_at[".dynstr"], SHT_STRTAB, SHF_ALLOC, dynstr_off, dynstr_off, len(dynstr), 0, 0, 1, 0)
    )
    if has_rel:
        shdrs.append(
            SHDR.pack(
                name_at[".rel.dyn"],
                SHT_REL,
                SHF_ALLOC,
                reldyn_off,
                reldyn_off,
                len(reldyn),
                idx[".dynsym"],
                0,
                8,
                REL.size,
            )
        )
    shdrs.append(SHDR.pack(name_at[".shstrtab"], SHT_STRTAB, 0, 0, shstrtab_off, len(shstrtab), 0, 0, 1, 0))
    put(shoff, b"".join(shdrs))

    phdrs = PHDR.pack(
        PT_LOAD,
        PF_R | PF_X,
        text_start,
        text_start,
        text_start,
        text_end - text_start,
        text_end - text_start,
        8,
    )
    phdrs += PHDR.pack(
        PT_LOAD, PF_R, ro_start, ro_start, ro_start, load_end - ro_start, load_end - ro_start, 8
    )
    phdrs += PHDR.pack(PT_DYNAMIC, PF_R, dynamic_off, dynamic_off, dynamic_off, len(dynamic), len(dynamic), 8)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
    header = EHDR.pack(
        ident,
        ET_DYN,
        EM_BPF,
        1,
        entry,
        EHDR.size,
        shoff,
        0,
        EHDR.size,
        PHDR.size,
        3,
        SHDR.size,
        len(shdrs),
        idx[".shstrtab"],
    )
    put(0, header)
    put(EHDR.size, phdrs)
    return LinkResult(bytes(out), (text_start, text_end), (ro_start, ro_end), entry, list(syscalls))
