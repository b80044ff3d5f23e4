import os

from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))


def requirements(name):
    with open(os.path.join(HERE, name)) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith(('#', '-r'))]


setup(
    name='pyrotorrent',
    version='0.2.0',
    description='A web interface to rTorrent',
    python_requires='>=3.11',
    py_modules=['pyrotorrent'],
    packages=['lib', 'model'],
    install_requires=requirements('requirements.txt'),
    extras_require={'test': requirements('requirements-test.txt')},
    data_files=[('share/pyrotorrent/templates', [os.path.join('templates', f) for f in os.listdir(os.path.join(HERE, 'templates'))]),
                ('share/pyrotorrent/static', [os.path.join('static', f) for f in os.listdir(os.path.join(HERE, 'static'))])],
    license='GPL-3.0-or-later',
)
