#!/usr/bin/env python3
"""dom_ids: what a browser's DOM dump (chromium --dump-dom) holds of the
HTML report's results, for shell tests to grep.

    dom_ids.py FILE

Prints one line per element whose id starts with "flow-" (an arrow of the
diagram) or "row-" (a table row): ID, its class, its data-verdict and its
text, what is drawn of it (its text nodes, not a <title>'s, joined by one
blank), separated by tabs; then "external N": elements
that load or run something (script, link, iframe, object, embed, img) and
src or href attributes. Standard library only. Exit status: 0, 1 unreadable.
"""
import sys
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
LOADING = {"script", "link", "iframe", "object", "embed", "img"}


class Ids(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []  # [tag, record or None]
        self.found = []  # [id, class, verdict, [text]]
        self.external = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.external += (tag in LOADING) + ("src" in a) + ("href" in a) + ("xlink:href" in a)
        if tag in VOID:
            return
        rec = None
        ident = a.get("id") or ""
        if ident.startswith(("flow-", "row-")):
            rec = [ident, a.get("class") or "", a.get("data-verdict") or "", []]
            self.found.append(rec)
        self.stack.append([tag, rec])

    def handle_startendtag(self, tag, attrs):
        a = dict(attrs)
        self.external += (tag in LOADING) + ("src" in a) + ("href" in a) + ("xlink:href" in a)

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        # A <title> is a tooltip, not what is drawn.
        if any(tag == "title" for tag, _ in self.stack):
            return
        for _, rec in self.stack:
            if rec is not None:
                rec[3].append(data)


def main():
    if len(sys.argv) != 2:
        print("usage: dom_ids.py FILE", file=sys.stderr)
        return 2
    try:
        with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError as e:
        print("dom_ids: %s" % e, file=sys.stderr)
        return 1
    p = Ids()
    p.feed(text)
    p.close()
    for ident, cls, verdict, data in p.found:
        print("%s\t%s\t%s\t%s" % (ident, cls, verdict, " ".join(" ".join(data).split())))
    print("external %d" % p.external)
    return 0


if __name__ == "__main__":
    sys.exit(main())
