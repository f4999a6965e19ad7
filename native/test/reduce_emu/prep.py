# Rewrites kernel<<<grid, block, smem, stream>>>(args) into emu_launch(grid, block, kernel, args).
import re, sys
src = open(sys.argv[1]).read()
def repl(m):
    name, args = m.group(1), m.group(2)
    # top-level split
    parts, depth, cur = [], 0, ''
    for ch in args:
        if ch in '(<': depth += 1
        if ch in ')>': depth -= 1
        if ch == ',' and depth == 0: parts.append(cur); cur = ''
        else: cur += ch
    parts.append(cur)
    return 'emu_launch(dim3(%s), dim3(%s), %s%s' % (parts[0], parts[1], name, ', ' if not m.group(3) else '')
src = re.sub(r'([A-Za-z_][\w:]*(?:<[^;<>]*>)?)<<<(.*?)>>>\((\))?', lambda m: repl(m) + (')' if m.group(3) else ''), src, flags=re.S)
open(sys.argv[2], 'w').write(src)
