#!/bin/sh
# Downloads the photograph set of `cargo bench -p codegen --bench photos` into DIR (default
# /tmp/qr-photos): 81 photographs of QR codes with their expected text, from zxing-cpp's test
# samples (https://github.com/zxing-cpp/zxing-cpp, test/samples/qrcode-{1,3,4,5,6}, Apache-2.0,
# originally ZXing's "blackbox" sets: phone photographs of printed codes with blur, perspective,
# glare, low contrast, curved paper and rotation). Pinned to one commit so every run measures the
# same files. WebP files are converted to PNG (Debian python3-pil), which codegen reads.
# The images are not kept in git: run this once; CI does not need them. Without network, point
# ZXING_CPP_DIR at a clone of zxing-cpp that has the commit: the files are taken from it.
set -eu
DIR=${1:-/tmp/qr-photos}
COMMIT=77dceca0687d46914b13f007447f5b354b078dd8
BASE=https://raw.githubusercontent.com/zxing-cpp/zxing-cpp/$COMMIT
mkdir -p "$DIR"
while read -r path; do
    cat=$(basename "$(dirname "$path")")
    file=$(basename "$path")
    name=${file%.*}
    mkdir -p "$DIR/$cat"
    [ -f "$DIR/$cat/$name.png" ] && continue
    if [ -n "${ZXING_CPP_DIR:-}" ]; then
        git -C "$ZXING_CPP_DIR" show "$COMMIT:$path" > "$DIR/$cat/$file"
        git -C "$ZXING_CPP_DIR" show "$COMMIT:${path%.*}.txt" > "$DIR/$cat/$name.txt"
    else
        curl -fsSL "$BASE/$path" -o "$DIR/$cat/$file"
        curl -fsSL "$BASE/${path%.*}.txt" -o "$DIR/$cat/$name.txt"
    fi
    case "$file" in
        *.png) ;;
        *) /usr/bin/python3 -c 'import sys; from PIL import Image; Image.open(sys.argv[1]).convert("RGB").save(sys.argv[2])' \
               "$DIR/$cat/$file" "$DIR/$cat/$name.png" && rm "$DIR/$cat/$file" ;;
    esac
done <<'LIST'
test/samples/qrcode-1/1.webp
test/samples/qrcode-1/11.webp
test/samples/qrcode-1/13.webp
test/samples/qrcode-1/17.webp
test/samples/qrcode-1/18.webp
test/samples/qrcode-1/20.webp
test/samples/qrcode-1/7.webp
test/samples/qrcode-1/8.webp
test/samples/qrcode-3/01.webp
test/samples/qrcode-3/03.webp
test/samples/qrcode-3/04.webp
test/samples/qrcode-3/05.webp
test/samples/qrcode-3/07.webp
test/samples/qrcode-3/09.webp
test/samples/qrcode-3/14.webp
test/samples/qrcode-3/18.webp
test/samples/qrcode-3/19.webp
test/samples/qrcode-3/21.webp
test/samples/qrcode-3/22.webp
test/samples/qrcode-3/23.webp
test/samples/qrcode-3/24.webp
test/samples/qrcode-3/25.webp
test/samples/qrcode-3/27.webp
test/samples/qrcode-3/28.webp
test/samples/qrcode-3/30.webp
test/samples/qrcode-3/40.webp
test/samples/qrcode-4/01.webp
test/samples/qrcode-4/02.webp
test/samples/qrcode-4/04.webp
test/samples/qrcode-4/05.webp
test/samples/qrcode-4/06.webp
test/samples/qrcode-4/07.webp
test/samples/qrcode-4/08.webp
test/samples/qrcode-4/09.webp
test/samples/qrcode-4/11.webp
test/samples/qrcode-4/12.webp
test/samples/qrcode-4/13.webp
test/samples/qrcode-4/14.webp
test/samples/qrcode-4/15.webp
test/samples/qrcode-4/16.webp
test/samples/qrcode-4/17.webp
test/samples/qrcode-4/21.webp
test/samples/qrcode-4/23.webp
test/samples/qrcode-4/29.webp
test/samples/qrcode-4/30.webp
test/samples/qrcode-4/31.webp
test/samples/qrcode-4/33.webp
test/samples/qrcode-4/41.webp
test/samples/qrcode-4/42.webp
test/samples/qrcode-4/46.webp
test/samples/qrcode-5/01.webp
test/samples/qrcode-5/02.webp
test/samples/qrcode-5/03.webp
test/samples/qrcode-5/04.webp
test/samples/qrcode-5/05.webp
test/samples/qrcode-5/08.webp
test/samples/qrcode-5/09.webp
test/samples/qrcode-5/11.webp
test/samples/qrcode-5/12.webp
test/samples/qrcode-5/13.webp
test/samples/qrcode-5/14.webp
test/samples/qrcode-5/15.webp
test/samples/qrcode-5/16.png
test/samples/qrcode-5/17.png
test/samples/qrcode-5/18.png
test/samples/qrcode-5/19.png
test/samples/qrcode-6/1.png
test/samples/qrcode-6/10.png
test/samples/qrcode-6/11.png
test/samples/qrcode-6/12.png
test/samples/qrcode-6/13.png
test/samples/qrcode-6/14.png
test/samples/qrcode-6/15.webp
test/samples/qrcode-6/2.png
test/samples/qrcode-6/3.png
test/samples/qrcode-6/4.png
test/samples/qrcode-6/5.png
test/samples/qrcode-6/6.png
test/samples/qrcode-6/7.png
test/samples/qrcode-6/8.png
test/samples/qrcode-6/9.png
LIST
