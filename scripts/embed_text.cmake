# Turn a text file into a C string, so that one text serves as a document and
# as a command's help: cmake -DIN=FILE -DOUT=FILE.c -DNAME=SYMBOL -P embed_text.cmake
# writes `const char SYMBOL[] = "...";`.  Markdown code fences (lines that
# start with ```) are left out; the rest is copied as it is.
file(READ "${IN}" text)
string(REGEX REPLACE "```[^\n]*\n" "" text "${text}")
string(REPLACE "\\" "\\\\" text "${text}")
string(REPLACE "\"" "\\\"" text "${text}")
string(REPLACE "\n" "\\n\"\n\t\"" text "${text}")
file(WRITE "${OUT}.tmp"
     "/* Generated from ${IN} by scripts/embed_text.cmake: edit that file. */\n"
     "extern const char ${NAME}[];\n"
     "const char ${NAME}[] =\n\t\"${text}\";\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
