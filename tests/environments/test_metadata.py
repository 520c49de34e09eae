"""PEP 723 blocks and requirement spellings (no processes)."""

import pytest

from hexsandbox.environments.metadata import (MetadataError, check_requirement, needs_of,
                                              normalise, parse_ini_list, python_satisfies,
                                              read_block)

SCRIPT = '''\
#!/usr/bin/env python3
# /// script
# requires-python = ">=3.9"
# dependencies = [
#   "requests>=2",
#   "tomli-w",
# ]
# ///
__module_name__ = "weather"
'''


def test_reads_dependencies_and_requires_python():
    needs = needs_of(SCRIPT)
    assert needs.declared == ("requests>=2", "tomli-w")
    assert needs.requires_python == ">=3.9"
    assert needs.requirements == ("requests>=2", "tomli-w")


def test_no_block_means_no_needs():
    needs = needs_of('__module_name__ = "plain"\n# dependencies = ["x"]\n')
    assert needs.requirements == () and needs.requires_python is None


def test_a_lone_hash_line_is_an_empty_line_and_other_block_types_are_ignored():
    # (Blocks must be apart: the PEP's expression runs on through comment lines.)
    source = ("# /// script\n# dependencies = [\n#\n#   'six',\n# ]\n# ///\n\n"
              "# /// other-tool\n# x = 1\n# ///\n")
    assert read_block(source) == {"dependencies": ["six"]}
    assert read_block(source, "other-tool") == {"x": 1}


def test_block_must_close_with_its_own_line():
    # No closing '# ///' line: per the PEP's expression this is no block at all.
    assert read_block("# /// script\n# dependencies = ['six']\n") is None


def test_two_script_blocks_are_an_error():
    block = "# /// script\n# dependencies = []\n# ///\n"
    with pytest.raises(MetadataError, match="2 '# /// script' blocks"):
        needs_of(block + "x = 1\n" + block)


def test_bad_toml_and_bad_types_are_one_line_errors():
    with pytest.raises(MetadataError, match="not valid TOML"):
        needs_of("# /// script\n# dependencies = [\n# ///\n")
    with pytest.raises(MetadataError, match="list of strings"):
        needs_of('# /// script\n# dependencies = "requests"\n# ///\n')
    with pytest.raises(MetadataError, match="must be a string"):
        needs_of("# /// script\n# requires-python = 3\n# ///\n")


def test_options_never_pass_for_requirements():
    for bad in ("--index-url=http://127.0.0.1:9/", "-e .", "./local"):
        with pytest.raises(MetadataError, match="not a package requirement"):
            check_requirement(bad)
    with pytest.raises(MetadataError):
        needs_of('# /// script\n# dependencies = ["--extra-index-url=x"]\n# ///\n')
    with pytest.raises(MetadataError):
        needs_of("", ini_dependencies="-r other.txt")


@pytest.mark.parametrize("good", [
    "requests", "requests>=2", "requests >= 2, <3", "requests[socks]>=2", "Tomli_W (>=1.0)",
    'six; python_version >= "3"', "pkg @ https://example.org/pkg-1.0.tar.gz", "a===1.0", "b~=1.4.2",
    "c==1.*", "d!=1.0.post1"])
def test_well_formed_requirements_pass(good):
    assert check_requirement(good) == good


@pytest.mark.parametrize("bad", ["tomli-w>>1", "requests 2", "requests>=", "x[extra", "a=>1"])
def test_malformed_specifiers_are_refused(bad):
    with pytest.raises(MetadataError, match="bad version specifier"):
        check_requirement(bad)


def test_ini_list_merges_with_the_block_and_keeps_extras_commas():
    assert parse_ini_list("requests>=2, lxml\n  tomli-w") == ("requests>=2", "lxml", "tomli-w")
    assert parse_ini_list("requests[socks,security]>=2, six") == ("requests[socks,security]>=2", "six")
    needs = needs_of(SCRIPT, ini_dependencies="Requests >= 2, six")
    assert needs.configured == ("Requests >= 2", "six")
    assert needs.requirements == ("requests>=2", "six", "tomli-w")


def test_spellings_of_one_requirement_share_a_key():
    assert normalise("Requests >= 2") == normalise("requests>=2") == "requests>=2"
    assert normalise("Tomli_W") == normalise("tomli.w") == "tomli-w"
    assert normalise('six ; python_version  >= "3"') == 'six; python_version >= "3"'
    assert normalise("a>=1") != normalise("a>=2")


@pytest.mark.parametrize("spec,version,ok", [
    (">=3.9", (3, 11, 2), True), (">=3.12", (3, 11, 2), False), ("<3.11", (3, 11, 2), False),
    (">=3.8,<4", (3, 11, 2), True), ("==3.11.*", (3, 11, 2), True), ("==3.10.*", (3, 11, 2), False),
    ("!=3.11.*", (3, 11, 2), False), ("~=3.10", (3, 11, 2), True), ("~=3.11.3", (3, 11, 2), False),
    ("==3.11.2", (3, 11, 2), True), (">3.11", (3, 11, 2), True), ("<=3.11", (3, 11, 0), True),
])
def test_requires_python(spec, version, ok):
    assert python_satisfies(version, spec) is ok


def test_requires_python_that_is_not_a_specifier():
    with pytest.raises(MetadataError, match="not a version specifier"):
        python_satisfies((3, 11, 2), "python3")
