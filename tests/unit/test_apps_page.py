"""The Apps page (issue #18 §5): static/description/index.html is well-formed, has no script
or stylesheet for Odoo to strip, every image it shows and every image of the manifest is a
file of the addon, small, and a PNG; and Odoo's own sanitizer keeps what the page shows."""

import ast
import pathlib
import xml.etree.ElementTree as ET

import pytest
from odoo.tools.mail import html_sanitize

ROOT = pathlib.Path(__file__).resolve().parents[2]
ADDON = ROOT / "odoo_bank_crm"
DESCRIPTION = ADDON / "static" / "description"
INDEX = DESCRIPTION / "index.html"
MAX_IMAGE_BYTES = 300 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def manifest():
    return ast.literal_eval((ADDON / "__manifest__.py").read_text(encoding="utf-8"))


def page():
    """index.html parsed as XML: a fragment of sections, so wrapped in one root element."""
    text = INDEX.read_text(encoding="utf-8")
    return ET.fromstring(f"<page>{text}</page>")


def image_file(src):
    """The addon's file an <img src> names, the way Odoo's Apps resolves it: a relative
    path is under static/description/, an absolute one starts with /odoo_bank_crm/."""
    if src.startswith("/odoo_bank_crm/"):
        return ADDON / src.removeprefix("/odoo_bank_crm/")
    return DESCRIPTION / src


def test_index_is_well_formed_xml():
    root = page()
    assert root.findall("section"), "index.html is a sequence of <section> elements"


def test_index_has_no_script_style_or_form():
    tags = {element.tag for element in page().iter()}
    assert not tags & {"script", "style", "link", "iframe", "form", "html", "head", "body"}


def test_index_has_english_and_russian_sections():
    text = INDEX.read_text(encoding="utf-8")
    assert 'lang="en"' in text and 'lang="ru"' in text


def test_every_img_is_a_file_of_the_addon():
    images = [element.get("src") for element in page().iter("img")]
    assert images, "the page shows screenshots"
    for src in images:
        assert src and "//" not in src, f"{src}: an image of the addon, not of another site"
        path = image_file(src)
        assert path.is_file(), f"{src}: no {path.relative_to(ROOT)}"
        assert path.read_bytes().startswith(PNG_SIGNATURE), f"{src} is not a PNG"
        assert path.stat().st_size <= MAX_IMAGE_BYTES, f"{src} is larger than 300 KB"


def test_every_img_has_alt_text():
    for element in page().iter("img"):
        assert (element.get("alt") or "").strip(), f"{element.get('src')} has no alt text"


def test_every_manifest_image_exists():
    images = manifest().get("images")
    assert images, "the manifest names its screenshots (main one first)"
    for name in images:
        path = ADDON / name
        assert path.is_file(), f"manifest image {name} is missing"
        assert path.read_bytes().startswith(PNG_SIGNATURE), f"{name} is not a PNG"
        assert path.stat().st_size <= MAX_IMAGE_BYTES, f"{name} is larger than 300 KB"


def test_main_manifest_image_is_on_the_page():
    main = manifest()["images"][0]
    sources = {str(image_file(element.get("src")).relative_to(ADDON)) for element in page().iter("img")}
    assert main in sources


@pytest.mark.parametrize("attribute", ["src", "style", "class"])
def test_odoo_keeps_what_the_page_shows(attribute):
    """Odoo shows the page through html_sanitize (ir.module.module._get_desc): the images,
    the inline styles and Bootstrap's classes must come through it."""
    original = INDEX.read_text(encoding="utf-8")
    sanitized = html_sanitize(original)
    count = sum(1 for element in page().iter() if element.get(attribute))
    assert count
    assert sanitized.count(f' {attribute}="') >= count


def test_each_english_screenshot_has_its_russian_twin():
    """The English sections show the English screens, the Russian ones the same screens in Russian."""
    shown = {"en": set(), "ru": set()}
    for section in page().iter("section"):
        lang = section.get("lang")
        if lang in shown:
            shown[lang] |= {element.get("src") for element in section.iter("img")}
    assert shown["en"] and shown["ru"]
    assert {src.replace("_en.png", "_ru.png") for src in shown["en"]} == shown["ru"]
