#!/usr/bin/python3
"""Checks that a generated report is well-formed, self-contained HTML.

Usage: check_html.py FILE...
Fails (exit 1, one line per problem) on: a missing doctype, an end tag that
does not close the innermost open element, elements left open, an unescaped
'<' in text, or anything that would be fetched from elsewhere (src / href
other than data: URIs or #anchors, <script src>, <link>, @import, url(http...)).
"""

import sys
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
        "source", "track", "wbr"}


class Checker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.stack, self.problems, self.doctype = [], [], False

    def problem(self, text):
        line, col = self.getpos()
        self.problems.append(f"line {line}:{col}: {text}")

    def handle_decl(self, decl):
        self.doctype = self.doctype or decl.lower() == "doctype html"

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith(("data:", "#")):
                self.problem(f"<{tag} {name}=\"{value[:60]}\"> points outside the file")
        if tag == "link":
            self.problem("<link> loads an outside resource")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            innermost = self.stack[-1] if self.stack else ""
            self.problem(f"</{tag}> does not close the open <{innermost}>")
            return
        self.stack.pop()

    def handle_data(self, data):
        if self.stack and self.stack[-1] == "style":
            if "@import" in data or "url(http" in data:
                self.problem("style sheet fetches an outside resource")
        elif "<" in data:
            self.problem("unescaped '<' in text")


def check(path):
    checker = Checker()
    with open(path, encoding="utf-8") as f:
        checker.feed(f.read())
    checker.close()
    if not checker.doctype:
        checker.problems.append("missing <!DOCTYPE html>")
    if checker.stack:
        checker.problems.append("elements never closed: " + " ".join(checker.stack))
    return [f"{path}: {p}" for p in checker.problems]


def main():
    problems = [p for path in sys.argv[1:] for p in check(path)]
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems or len(sys.argv) < 2 else 0


if __name__ == "__main__":
    sys.exit(main())
