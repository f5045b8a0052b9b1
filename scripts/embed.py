#!/usr/bin/env python3
"""Turn a file into a C array (name, name_len) so firmware serves it from flash."""
import sys

def main():
    name, src, dst = sys.argv[1:4]
    data = open(src, 'rb').read()
    rows = [', '.join('0x%02x' % b for b in data[i:i + 12]) for i in range(0, len(data), 12)]
    with open(dst, 'w') as f:
        f.write('/* Generated from %s by scripts/embed.py: do not edit. */\n' % src)
        f.write('#include <stddef.h>\n')
        f.write('const unsigned char %s[] = {\n    %s\n};\n' % (name, ',\n    '.join(rows)))
        f.write('const size_t %s_len = %d;\n' % (name, len(data)))

if __name__ == '__main__':
    main()
