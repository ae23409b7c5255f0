# SPDX-License-Identifier: GPL-2.0
#
# Sphinx configuration for mdlock's documentation.  Built by
# scripts/htmldocs.sh (make htmldocs), which sets MDLOCK_KERNEL_SPHINX to
# the kernel's Documentation/sphinx directory (for its kernel-doc
# extension) and MDLOCK_KERNEL_DOC to its scripts/kernel-doc.

import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
_top = os.path.dirname(_here)

_ksphinx = os.environ.get('MDLOCK_KERNEL_SPHINX')
if not _ksphinx:
    raise RuntimeError('MDLOCK_KERNEL_SPHINX is not set: build with make htmldocs')
sys.path.insert(0, _ksphinx)

import kerneldoc  # noqa: E402  (the kernel's extension, from _ksphinx)

project = 'mdlock'
copyright = 'The mdlock developers'
author = 'The mdlock developers'

extensions = ['kerneldoc']

# The kernel-doc directive: the kernel's script, paths from the repository.
kerneldoc_bin = os.environ.get('MDLOCK_KERNEL_DOC',
                               os.path.join(os.path.dirname(_ksphinx),
                                            '..', 'scripts', 'kernel-doc'))
kerneldoc_srctree = _top
kerneldoc_verbosity = 0

# Only the .rst pages: the man pages (Documentation/man/) are not Sphinx's.
source_suffix = {'.rst': 'restructuredtext'}
master_doc = 'index'
exclude_patterns = ['man', 'man/**', '**/*.[0-9]', '_build', 'conf.py']

primary_domain = 'c'
highlight_language = 'none'

# Nitpicky mode (-n): every C type the declarations name must be
# documented.  The Windows types are (kernel-api.rst); the kernel's own
# are documented in the kernel's documentation, not here.
nitpick_ignore = [('c:identifier', t) for t in (
    'u8', 'u16', 'u32', 'u64', 's8', 's16', 's32', 's64', 'size_t', 'bool',
    'device', 'dma_data_direction', 'file', 'module', 'page', 'sg_table',
    'task_struct', 'vm_area_struct', 'mm_struct',
)]

html_theme = 'alabaster'
html_title = 'mdlock'
html_show_sourcelink = False

