#!/usr/bin/env python3
"""Where the browser bundle's code goes: sums the size of every function body in a wasm file
by the crate its (demangled) name starts with, from the file's name section.

Run it on the wasm before wasm-bindgen and wasm-opt strip the names (cargo-leptos leaves it at
$CARGO_TARGET_DIR/front/wasm32-unknown-unknown/wasm-release/frontend.wasm):

    python3 bench/wasm-sizes.py [--by-app] FILE [GROUPS] [LARGEST]

GROUPS (default 30) crates are listed, then the LARGEST (default 0) single functions. With
--by-app, a function whose name mentions an item of the app (`app::ui::item::DueLabel`, its
closures, a framework trait implemented for it) counts for that item instead of its crate:
framework code instantiated for one view or type shows up under that view or type.
"""
import collections
import re
import shutil
import subprocess
import sys


def leb(data, i):
    value = shift = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def functions(data):
    """(name, body size) of every function defined in the module."""
    i, imported, bodies, names = 8, 0, [], {}
    while i < len(data):
        section = data[i]
        size, i = leb(data, i + 1)
        end = i + size
        if section == 2:  # imports: functions among them shift the index space
            count, j = leb(data, i)
            for _ in range(count):
                for _ in range(2):
                    length, j = leb(data, j)
                    j += length
                kind = data[j]
                j += 1
                if kind == 0:
                    _, j = leb(data, j)
                    imported += 1
                elif kind == 1:
                    j += 1
                    flags, j = leb(data, j)
                    _, j = leb(data, j)
                    if flags & 1:
                        _, j = leb(data, j)
                elif kind == 2:
                    flags, j = leb(data, j)
                    _, j = leb(data, j)
                    if flags & 1:
                        _, j = leb(data, j)
                else:
                    j += 2
        elif section == 10:  # code
            count, j = leb(data, i)
            for _ in range(count):
                length, j = leb(data, j)
                bodies.append(length)
                j += length
        elif section == 0:  # custom: the name section
            length, j = leb(data, i)
            if data[j:j + length] == b"name":
                j += length
                while j < end:
                    sub = data[j]
                    sub_size, j = leb(data, j + 1)
                    sub_end = j + sub_size
                    if sub == 1:
                        count, k = leb(data, j)
                        for _ in range(count):
                            index, k = leb(data, k)
                            length, k = leb(data, k)
                            names[index] = data[k:k + length].decode("utf-8", "replace")
                            k += length
                    j = sub_end
        i = end
    return [(names.get(n + imported, "?"), size) for n, size in enumerate(bodies)]


def v0_crates(name):
    """The crates a v0-mangled name (`_R...`, as rustc gives std built from source) mentions,
    in order: each crate root is `C`, an optional `s<hash>_`, then the name's length and the name."""
    crates = []
    for m in re.finditer(r"C(?:s[0-9A-Za-z]*_)?(\d+)_?", name):
        length = int(m.group(1))
        crates.append(name[m.end():m.end() + length])
    return crates


def demangle(name):
    """Rust's legacy mangling (`_ZN...E`) to a path; a v0 name gets the crates it mentions put
    in front (enough to group it), the rest left as it is."""
    if name.startswith("_R"):
        return "".join(f"{c}::" for c in v0_crates(name)) + " " + name
    if not name.startswith("_ZN"):
        return name
    rest, parts = name[3:], []
    while rest and rest[0].isdigit():
        digits = re.match(r"\d+", rest).group(0)
        length = int(digits)
        rest = rest[len(digits):]
        parts.append(rest[:length])
        rest = rest[length:]
    path = "::".join(p for p in parts if not re.fullmatch(r"h[0-9a-f]{16}", p))
    for code, text in [("$LT$", "<"), ("$GT$", ">"), ("$u20$", " "), ("$RF$", "&"), ("$C$", ","),
                       ("$u7b$", "{"), ("$u7d$", "}"), ("..", "::"), ("$BP$", "*")]:
        path = path.replace(code, text)
    return path


def demangle_all(names):
    """Every name demangled: by rustfilt where it is installed (`cargo install rustfilt`), which
    reads v0 names whole, generic arguments included; else by `demangle`."""
    rustfilt = shutil.which("rustfilt")
    if rustfilt:
        out = subprocess.run([rustfilt], input="\n".join(names), capture_output=True, text=True, check=True)
        demangled = out.stdout.split("\n")
        if len(demangled) >= len(names):
            return [re.sub(r"::h[0-9a-f]{16}$", "", d) for d in demangled[:len(names)]]
    return [demangle(name) for name in names]


def crate_of(path):
    # The first crate named, passing over std's crates and their modules (`core::ptr::`).
    for m in re.finditer(r"([a-z_][a-z0-9_]*)::", path):
        crate = m.group(1)
        in_std = re.search(r"\b(core|alloc|std)(::[a-z_][a-z0-9_]*)*::$", path[:m.start()])
        if crate not in ("core", "alloc", "std", "_", "impl") and not in_std:
            return crate
    if "wbindgen" in path or "wbg" in path:
        return "(wasm-bindgen glue)"
    return "(std)" if re.search(r"\b(core|alloc|std)::", path) else "(other)"


def app_item_of(path):
    """The first item of the app a path names (`app::ui::item::DueLabel`), or None."""
    m = re.search(r"\bapp((?:::[A-Za-z_][A-Za-z0-9_]*){1,3})", path)
    if not m:
        return None
    segments = m.group(1).split("::")[1:]
    # Up to the first capitalised segment (a type or component), else the whole module path.
    for n, segment in enumerate(segments):
        if segment[:1].isupper():
            segments = segments[:n + 1]
            break
    return "app::" + "::".join(segments)


def main():
    args = sys.argv[1:]
    by_app = "--by-app" in args
    args = [a for a in args if a != "--by-app"]
    data = open(args[0], "rb").read()
    groups_shown = int(args[1]) if len(args) > 1 else 30
    largest = int(args[2]) if len(args) > 2 else 0
    raw = functions(data)
    funcs = list(zip(demangle_all([name for name, _ in raw]), [size for _, size in raw]))
    total = sum(size for _, size in funcs)
    groups = collections.Counter()
    for path, size in funcs:
        groups[(by_app and app_item_of(path)) or crate_of(path)] += size
    print(f"{len(funcs)} functions, {total} bytes of code")
    for crate, size in groups.most_common(groups_shown):
        print(f"{size:9d} {100 * size / total:5.1f}%  {crate}")
    for path, size in sorted(funcs, key=lambda f: -f[1])[:largest]:
        print(f"{size:9d}  {path[:160]}")


if __name__ == "__main__":
    main()
