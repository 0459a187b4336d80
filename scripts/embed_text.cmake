# Turn a text file into a C string, so that one text serves as a document and
# as a command's help: with IN, OUT and NAME set (CMakeLists.txt's
# ms_embed_text, or cmake -DIN=FILE -DOUT=FILE.c -DNAME=SYMBOL -P this file),
# writes OUT holding `const char NAME[] = "...";`.  Markdown code fences (lines that
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
