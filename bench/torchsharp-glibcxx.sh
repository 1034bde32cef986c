#!/usr/bin/env bash
# TorchSharp 0.107's libLibTorchSharp.so asks for GLIBCXX_3.4.32 for one symbol, std::ios_base_library_init()
# (GCC 13's iostream initialisation hook), which Debian 12's libstdc++ (GCC 12) lacks, so loading it fails.
# Fix, for the copy in the benchmark's output directory only: mark that version requirement weak (VER_FLG_WEAK
# in .gnu.version_r, so the loader no longer insists on it) and preload a one-function library that defines the
# symbol (GCC 12's libstdc++ initialises iostreams on its own, so an empty function is enough).
# Usage: source bench/torchsharp-glibcxx.sh <directory with libLibTorchSharp.so>   (sets LD_PRELOAD when needed)
set -euo pipefail
dir=$1
lib="$dir/libLibTorchSharp.so"
stdcxx=$(ldconfig -p | sed -n 's/.*libstdc++.so.6 (libc6,x86-64) => //p' | head -n 1)
if [ ! -f "$lib" ] || strings "${stdcxx:-/usr/lib/x86_64-linux-gnu/libstdc++.so.6}" | grep -qx GLIBCXX_3.4.32; then
  return 0 2>/dev/null || exit 0
fi
python3 - "$lib" <<'PY'
import struct, sys
path = sys.argv[1]
data = bytearray(open(path, 'rb').read())
shoff, = struct.unpack_from('<Q', data, 0x28)
shentsize, shnum = struct.unpack_from('<HH', data, 0x3A)
sections = [struct.unpack_from('<IIQQQQIIQQ', data, shoff + i * shentsize) for i in range(shnum)]
patched = 0
for name, kind, flags, addr, offset, size, link, info, align, entsize in sections:
    if kind != 0x6ffffffe:  # SHT_GNU_verneed
        continue
    strtab = sections[link][4]
    need = offset
    for _ in range(info):
        _, _, _, aux_off, next_off = struct.unpack_from('<HHIII', data, need)
        aux = need + aux_off
        while True:
            _, vflags, _, vname, vnext = struct.unpack_from('<IHHII', data, aux)
            end = data.index(b'\0', strtab + vname)
            if data[strtab + vname:end] == b'GLIBCXX_3.4.32':
                struct.pack_into('<H', data, aux + 4, vflags | 0x2)  # VER_FLG_WEAK
                patched += 1
            if vnext == 0:
                break
            aux += vnext
        if next_off == 0:
            break
        need += next_off
open(path, 'wb').write(data)
print(f'torchsharp-glibcxx: marked {patched} GLIBCXX_3.4.32 requirement(s) weak in {path}', file=sys.stderr)
PY
shim="$dir/libglibcxx-ios-init.so"
echo 'void _ZSt21ios_base_library_initv(void) {}' | gcc -shared -fPIC -x c -o "$shim" -
export LD_PRELOAD="$shim${LD_PRELOAD:+:$LD_PRELOAD}"
