"""Documents: article files found, read and parsed into text blocks with their lines, title, date and section."""

from qa.documents.files import MAX_FILE_BYTES, SUFFIXES, decode, find_files
from qa.documents.load import load_file, load_path
from qa.documents.model import Block, Document, word_count
from qa.documents.plain import parse_text

__all__ = ["MAX_FILE_BYTES", "SUFFIXES", "Block", "Document", "decode", "find_files", "load_file", "load_path",
           "parse_text", "word_count"]
