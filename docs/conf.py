# Sphinx configuration: sphinx-build docs docs/_build/html
project = 'pyroTorrent'
root_doc = 'index'
exclude_patterns = ['_build', 'examples']
highlight_language = 'none'
