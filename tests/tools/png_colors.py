#!/usr/bin/env python3
"""png_colors: a PNG's size and how many of its pixels have given colours.

    png_colors.py FILE [--tolerance N] [RRGGBB ...]

Prints "WIDTH HEIGHT", then "RRGGBB COUNT" per colour asked for: the pixels
whose red, green and blue each lie within N (default 8) of the colour's.
Reads 8-bit RGB and RGBA PNGs, not interlaced (what Chromium's screenshots
are), with the standard library only: zlib and the five filters of the PNG
specification (section 9). Exit status: 0, 1 a PNG it cannot read, 2 usage.
"""
import argparse
import struct
import sys
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunks(data):
    """(type, body) of each chunk after the signature, CRCs checked."""
    pos = len(SIGNATURE)
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if len(body) != length or zlib.crc32(kind + body) != crc:
            raise ValueError("chunk %r is cut or has a wrong CRC" % kind)
        yield kind, body
        pos += 12 + length


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def unfilter(raw, width, height, bpp):
    """The scanlines without their filter bytes, as one bytearray."""
    stride = width * bpp
    out = bytearray(stride * height)
    prev = bytearray(stride)
    pos = 0
    for y in range(height):
        ftype = raw[pos]
        line = bytearray(raw[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        if len(line) != stride:
            raise ValueError("image data is cut")
        if ftype == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif ftype == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 0xFF
        elif ftype == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif ftype == 4:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                up_left = prev[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + paeth(left, prev[i], up_left)) & 0xFF
        elif ftype != 0:
            raise ValueError("unknown filter type %d" % ftype)
        out[y * stride:(y + 1) * stride] = line
        prev = line
    return out


def read_png(path):
    """(width, height, bytes per pixel, pixels)."""
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(SIGNATURE):
        raise ValueError("not a PNG")
    head, idat = None, []
    for kind, body in chunks(data):
        if kind == b"IHDR":
            head = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if head is None:
        raise ValueError("no IHDR")
    width, height, depth, ctype, _, _, interlace = head
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError("only 8-bit RGB or RGBA, not interlaced (depth %d, colour type %d)"
                         % (depth, ctype))
    bpp = 3 if ctype == 2 else 4
    return width, height, bpp, unfilter(zlib.decompress(b"".join(idat)), width, height, bpp)


def count(pixels, bpp, colour, tol):
    r0, g0, b0 = (int(colour[i:i + 2], 16) for i in (0, 2, 4))
    n = 0
    for i in range(0, len(pixels), bpp):
        if (abs(pixels[i] - r0) <= tol and abs(pixels[i + 1] - g0) <= tol
                and abs(pixels[i + 2] - b0) <= tol):
            n += 1
    return n


def hex_colour(text):
    if len(text) != 6 or text.strip("0123456789abcdefABCDEF"):
        raise argparse.ArgumentTypeError("not RRGGBB: %r" % text)
    return text.lower()


def main():
    ap = argparse.ArgumentParser(description="A PNG's size and its pixels of given colours.")
    ap.add_argument("file")
    ap.add_argument("--tolerance", type=int, default=8, help="per channel (default 8)")
    ap.add_argument("colours", nargs="*", type=hex_colour, metavar="RRGGBB")
    a = ap.parse_args()
    try:
        width, height, bpp, pixels = read_png(a.file)
    except (OSError, ValueError, zlib.error, struct.error) as e:
        print("png_colors: %s: %s" % (a.file, e), file=sys.stderr)
        return 1
    print(width, height)
    for c in a.colours:
        print(c, count(pixels, bpp, c, a.tolerance))
    return 0


if __name__ == "__main__":
    sys.exit(main())
