#!/usr/bin/python3
"""Reads every photograph of a set with zxing-cpp and zbar: the references for `--bench photos`.

Usage: reference.py DIR  (DIR as made by fetch.sh: */NAME.png with the expected text in NAME.txt)

Prints one Markdown row per decoder and category: images, decoded (exact text), images/s.
A file counts as decoded when one of the symbols found carries exactly the expected text.
Debian: python3-zxing-cpp, python3-pyzbar, python3-pil.
"""
import glob
import os
import sys
import time

import zxingcpp
from PIL import Image
from pyzbar import pyzbar


def expected(png):
    with open(png[:-4] + ".txt", "rb") as f:
        return f.read().decode("utf-8", "replace")


def with_zxing(img):
    return [r.text for r in zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)]


def with_zbar(img):
    found = pyzbar.decode(img, symbols=[pyzbar.ZBarSymbol.QRCODE])
    return [s.data.decode("utf-8", "replace") for s in found]


def main():
    root = sys.argv[1]
    files = sorted(glob.glob(os.path.join(root, "*", "*.png")))
    for name, decode in (("zxing-cpp", with_zxing), ("zbar", with_zbar)):
        per = {}
        for f in files:
            cat = os.path.basename(os.path.dirname(f))
            # Decoders are timed from the file, as ours is (read, decode PNG, find, decode).
            start = time.perf_counter()
            img = Image.open(f)
            img.load()
            texts = decode(img)
            took = time.perf_counter() - start
            ok = expected(f) in texts
            n, good, t = per.get(cat, (0, 0, 0.0))
            per[cat] = (n + 1, good + ok, t + took)
        total = [0, 0, 0.0]
        for cat, (n, good, t) in sorted(per.items()):
            print(f"| {cat} | {name} | {good}/{n} | {n / t:.0f} |")
            total = [total[0] + n, total[1] + good, total[2] + t]
        n, good, t = total
        print(f"| all | {name} | {good}/{n} ({100 * good / n:.0f} %) | {n / t:.0f} |")


main()
