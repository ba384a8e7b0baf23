"""Office documents made for tests with the libraries real files come from (odfpy here)."""

from __future__ import annotations


def odt(path, paragraphs, footer: str | None = None):
    """A real .odt (odfpy). A paragraph is a string or a list of parts: a string, ``("s",)`` (a space
    element), or ``("span", parts, background)``; ``footer`` puts a paragraph in the page footer."""
    from odf.opendocument import OpenDocumentText
    from odf.style import Footer, MasterPage, PageLayout, Style, TextProperties
    from odf.text import P, S, Span

    doc = OpenDocumentText()
    styles: dict[str, str] = {}

    def fill(node, parts):
        for part in parts:
            if isinstance(part, str):
                node.addText(part)
            elif part[0] == "s":
                node.addElement(S())
            else:
                background = part[2] if len(part) > 2 else None
                attrs = {}
                if background:
                    if background not in styles:
                        name = f"T{len(styles) + 1}"
                        style = Style(name=name, family="text")
                        style.addElement(TextProperties(backgroundcolor=background))
                        doc.automaticstyles.addElement(style)
                        styles[background] = name
                    attrs["stylename"] = styles[background]
                span = Span(**attrs)
                fill(span, part[1])
                node.addElement(span)

    for para in paragraphs:
        p = P()
        fill(p, [para] if isinstance(para, str) else para)
        doc.text.addElement(p)
    if footer is not None:
        layout = PageLayout(name="pm1")
        doc.automaticstyles.addElement(layout)
        page = MasterPage(name="Standard", pagelayoutname=layout)
        foot = Footer()
        foot.addElement(P(text=footer))
        page.addElement(foot)
        doc.masterstyles.addElement(page)
    doc.save(str(path))
    return str(path)
