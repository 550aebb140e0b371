"""Readers and mapping files: what agencies actually send, onto the contract."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from schemas.contract import ENTITIES
from schemas.mapping import (
    Mapping,
    apply_mapping,
    load_mapping,
    normalize_date,
    normalize_number,
    read_with_mapping,
)
from schemas.readers import SourceFormat, read_sample, read_source
from schemas.structure import BROKEN_LINES
from schemas.validate import ContractError, validate_rows

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "mappings"

BAD_COLUMN = """\
# a header mapped onto something that is not a contract column
entity: participations
columns:
  RUT: firm_id
  Razón Social: name
"""

CHILE_MAPPING = """\
entity: participations
columns:
  RUT: firm_id
  Programa: program_id
  Servicio: service
  Fecha Inicio: start_date
  Fecha Término: end_date
  Costo Público: public_cost
  Aporte Empresa: firm_contribution
format:
  delimiter: ";"
  decimal: ","
  thousands: "."
  date_format: "%d/%m/%Y"
"""

CHILE_CSV = (
    "RUT;Razón Social;Región;Programa;Servicio;Fecha Inicio;Fecha Término;"
    "Costo Público;Aporte Empresa\n"
    '76.123.456-7;"Industrias Metalúrgicas São João";Biobío;P1;Asesoría técnica;'
    "01/03/2020;15/09/2020;1.234.567,89;250.000\n"
    "77.654.321-K;Maderas del Ñuble;Ñuble;P1;Capacitación;5/1/2021;;987,5;\n"
    "78.111.222-3;Conservas Ñuñoa;Metropolitana;P1;Voucher;01/02/2021;;n/d;0\n"
)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def one_line(error: pytest.ExceptionInfo[ContractError]) -> str:
    message = str(error.value)
    assert "\n" not in message and "Traceback" not in message
    return message


# --- the acceptance test -----------------------------------------------------------------


def test_a_windows_1252_spanish_csv_loads_through_its_mapping(tmp_path: Path) -> None:
    data = write(tmp_path / "participaciones.csv", CHILE_CSV, encoding="cp1252")
    mapping = load_mapping(write(tmp_path / "corfo.yaml", CHILE_MAPPING))

    frame = apply_mapping(read_source(data, fmt=mapping.format), mapping, "participations")
    # accents intact; unmapped columns kept as they are
    assert frame["Razón Social"].tolist()[:2] == [
        "Industrias Metalúrgicas São João",
        "Maderas del Ñuble",
    ]
    assert frame["Región"].tolist()[:2] == ["Biobío", "Ñuble"]
    assert frame["public_cost"].tolist() == ["1234567.89", "987.5", "n/d"]
    assert frame["start_date"].tolist() == ["2020-03-01", "2021-01-05", "2021-02-01"]

    result = validate_rows(frame, "participations", data.name)
    valid = result.valid.set_index("_row_number")
    assert valid.loc[2, "public_cost"] == 1234567.89  # exactly
    assert valid.loc[2, "firm_contribution"] == 250000.0
    assert valid.loc[3, "public_cost"] == 987.5 and pd.isna(valid.loc[3, "firm_contribution"])
    assert valid.loc[2, "start_date"] == pd.Timestamp("2020-03-01")
    assert valid.loc[2, "end_date"] == pd.Timestamp("2020-09-15")
    assert valid.loc[3, "start_date"] == pd.Timestamp("2021-01-05")  # day first
    assert valid.loc[2, "service"] == "Asesoría técnica"
    assert valid.loc[2, "firm_id"] == "76.123.456-7"  # identifiers stay text
    # "n/d" is quarantined as sent, on the row a spreadsheet shows
    bad = result.quarantine
    assert bad[["row_number", "column_name", "rule", "value"]].values.tolist() == [
        [4, "public_cost", "not_a_number", "n/d"]
    ]


def test_read_with_mapping_uses_the_mapping_format(tmp_path: Path) -> None:
    data = write(tmp_path / "participaciones.csv", CHILE_CSV, encoding="cp1252")
    mapping = load_mapping(write(tmp_path / "corfo.yaml", CHILE_MAPPING))
    frame = read_with_mapping(data, mapping)
    assert frame["firm_contribution"].tolist() == ["250000", None, "0"]


# --- encodings and delimiters ---------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"])
def test_encodings_are_detected(tmp_path: Path, encoding: str) -> None:
    text = "firm_id,region,name\n1,Biobío,Industrias Metalúrgicas São João\n2,Ñuble,Açaí\n"
    frame = read_source(write(tmp_path / "firms.csv", text, encoding=encoding))
    assert list(frame.columns) == ["firm_id", "region", "name", "_row_number"]  # no BOM
    assert frame["name"].tolist() == ["Industrias Metalúrgicas São João", "Açaí"]
    assert frame["region"].tolist() == ["Biobío", "Ñuble"]


def test_latin_1_only_bytes_and_an_explicit_encoding(tmp_path: Path) -> None:
    # 0x81 is undefined in Windows-1252: detection must fall back to Latin-1
    path = tmp_path / "firms.csv"
    path.write_bytes("firm_id,name\n1,São\x81\n".encode("latin-1"))
    assert read_source(path)["name"].tolist() == ["São\x81"]
    # an explicit encoding that fits wins over detection
    write(path, "firm_id,name\n1,São João\n", encoding="latin-1")
    assert read_source(path, fmt=SourceFormat(encoding="latin-1"))["name"][0] == "São João"


REGION = "firm_id,region,name\n1,Región del Maule,Metalúrgica São João\n2,Ñuble,Açaí\n"


@pytest.mark.parametrize(
    ("written", "declared", "message"),
    [
        # UTF-8 declared as a single-byte encoding: it would load as mojibake
        (
            "utf-8",
            "cp1252",
            "firms.csv: declared encoding cp1252, but the file is UTF-8 ('RegiÃ³n' would be "
            "read for 'Región'); set encoding: utf-8 in mappings/chile.yaml",
        ),
        (
            "utf-8",
            "latin-1",
            "firms.csv: declared encoding latin-1, but the file is UTF-8 ('RegiÃ³n' would be "
            "read for 'Región'); set encoding: utf-8 in mappings/chile.yaml",
        ),
        (
            "utf-8-sig",
            "cp1252",
            "firms.csv: declared encoding cp1252, but the file is UTF-8 ('RegiÃ³n' would be "
            "read for 'Región'); set encoding: utf-8 in mappings/chile.yaml",
        ),
        # Windows-1252 declared as UTF-8: bytes invalid in it
        (
            "cp1252",
            "utf-8",
            "firms.csv: declared encoding utf-8, but byte 0xf3 on line 2 is not valid in it; "
            "the file looks like Windows-1252 (cp1252); set encoding: cp1252 in "
            "mappings/chile.yaml",
        ),
        # UTF-16 declared as anything else
        (
            "utf-16",
            "cp1252",
            "firms.csv: declared encoding cp1252, but the file is UTF-16 (it starts with a "
            "UTF-16 byte-order mark); set encoding: utf-16 in mappings/chile.yaml",
        ),
    ],
)
def test_a_file_not_in_its_declared_encoding_is_refused_naming_the_likely_one(
    tmp_path: Path, written: str, declared: str, message: str
) -> None:
    path = write(tmp_path / "firms.csv", REGION, encoding=written)
    fmt = SourceFormat(encoding=declared)
    for read in (read_source, read_sample):
        with pytest.raises(ContractError) as error:
            read(path, fmt=fmt, fix_in="mappings/chile.yaml")
        assert one_line(error) == message
    # without `fix_in` (a mapping built in code) the message says where in general terms
    with pytest.raises(ContractError, match=r"in the source's mapping \(format: encoding\)$"):
        read_source(path, fmt=fmt)


def test_windows_1252_declared_as_latin_1_would_hide_its_quotes_and_dashes(
    tmp_path: Path,
) -> None:
    path = write(tmp_path / "firms.csv", "firm_id,name\n1,“Metal” – 5 €\n", encoding="cp1252")
    with pytest.raises(ContractError) as error:
        read_source(path, fmt=SourceFormat(encoding="latin-1"))
    assert one_line(error).startswith(
        "firms.csv: declared encoding latin-1, but the file is Windows-1252 "
        "('\\x93Metal\\x94' would be read for '“Metal”'); set encoding: cp1252"
    )
    assert read_source(path, fmt=SourceFormat(encoding="cp1252"))["name"][0] == "“Metal” – 5 €"


@pytest.mark.parametrize(
    ("written", "declared"),
    [
        ("cp1252", "cp1252"),  # a genuine Windows-1252 file with accents
        ("cp1252", None),
        ("latin-1", "latin-1"),
        ("latin-1", "iso-8859-15"),
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8"),  # the BOM is not part of the first header
        ("utf-8-sig", None),
        ("utf-16", "utf-16"),
    ],
)
def test_a_declared_encoding_that_fits_reads_the_accents(
    tmp_path: Path, written: str, declared: str | None
) -> None:
    path = write(tmp_path / "firms.csv", REGION, encoding=written)
    for read in (read_source, read_sample):
        frame = read(path, fmt=SourceFormat(encoding=declared))
        assert list(frame.columns) == ["firm_id", "region", "name", "_row_number"]
        assert frame["region"].tolist() == ["Región del Maule", "Ñuble"]
        assert frame["name"].tolist() == ["Metalúrgica São João", "Açaí"]


@pytest.mark.parametrize("declared", ["cp1252", "latin-1", "utf-8", "ascii", "cp850", None])
def test_pure_ascii_reads_the_same_under_any_declared_encoding(
    tmp_path: Path, declared: str | None
) -> None:
    path = write(tmp_path / "firms.csv", "firm_id,region\n1,Maule\n", encoding="ascii")
    assert read_source(path, fmt=SourceFormat(encoding=declared))["region"].tolist() == ["Maule"]


def test_text_already_garbled_is_refused_whatever_the_encoding(tmp_path: Path) -> None:
    # UTF-8 encoded twice: the file is valid UTF-8, but it says 'RegiÃ³n'
    twice = "firm_id,region\n1,Maule\n2,Región del Maule\n".encode().decode("cp1252")
    path = write(tmp_path / "firms.csv", twice, encoding="utf-8")
    with pytest.raises(ContractError) as error:
        read_source(path)
    assert one_line(error) == (
        "firms.csv: line 3 reads 'RegiÃ³n', which is 'Región' encoded twice (text already in "
        "UTF-8 was converted to UTF-8 again); export the file again from its source"
    )
    # a Windows-1252 file with a UTF-8 line pasted in: no single encoding reads it
    mixed = "firm_id,region\n1,Ñuble\n".encode("cp1252") + "2,Región\n".encode()
    path.write_bytes(mixed)
    for declared in ("cp1252", None):
        with pytest.raises(ContractError, match="the file mixes UTF-8 with another encoding"):
            read_source(path, fmt=SourceFormat(encoding=declared))
    # genuine capitals and quotes that look alike are not garbled text
    genuine = "firm_id,name\n1,“SÃO JOÃO” AÇÃO\n2,ADMINISTRAÇÃO\n"
    for encoding in ("utf-8", "cp1252"):
        path = write(tmp_path / "firms.csv", genuine, encoding=encoding)
        assert read_source(path)["name"].tolist() == ["“SÃO JOÃO” AÇÃO", "ADMINISTRAÇÃO"]


def test_a_sample_reads_the_header_and_whole_rows_of_the_first_megabyte(tmp_path: Path) -> None:
    # the sample ends inside a multi-byte character and inside a quoted value
    path = tmp_path / "firms.csv"
    row = '1,"Metalúrgica, São João",Ñuble\n'
    path.write_bytes(("firm_id,name,region\n" + row * 50_000).encode("utf-8"))
    for limit in range(4096, 4096 + 40):
        sample = read_sample(path, fmt=SourceFormat(encoding="utf-8"), limit=limit)
        assert list(sample.columns) == ["firm_id", "name", "region", "_row_number"]
        assert len(sample) >= 100 and set(sample["name"]) == {"Metalúrgica, São João"}
        assert sample["_row_number"].tolist() == list(range(2, len(sample) + 2))


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters_are_sniffed(tmp_path: Path, delimiter: str) -> None:
    rows = [["firm_id", "year", "sales"], ["F1", "2015", "1,5"], ["F2", "2016", "2,5"]]
    if delimiter == ",":
        rows = [[f'"{v}"' if "," in v else v for v in row] for row in rows]
    text = "\n".join(delimiter.join(row) for row in rows) + "\n"
    frame = read_source(write(tmp_path / "outcomes.txt", text))
    assert list(frame.columns) == ["firm_id", "year", "sales", "_row_number"]
    assert frame["sales"].tolist() == ["1,5", "2,5"]


def test_the_delimiter_can_be_set(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", "a|b;c\n1|2;3\n")
    assert list(read_source(path, fmt=SourceFormat(delimiter="|")).columns)[:2] == ["a", "b;c"]
    assert list(read_source(path, fmt=SourceFormat(delimiter=";")).columns)[:2] == ["a|b", "c"]
    assert SourceFormat(delimiter="tab").delimiter == "\t"


def test_an_excel_sep_line_sets_the_delimiter(tmp_path: Path) -> None:
    frame = read_source(write(tmp_path / "x.csv", "sep=;\nfirm_id;sales\nF1;1,5\n"))
    assert frame[["firm_id", "sales", "_row_number"]].values.tolist() == [["F1", "1,5", 2]]


def test_quoted_fields_hold_delimiters_and_quotes_and_lines_are_one_record(
    tmp_path: Path,
) -> None:
    text = (
        "firm_id;name;note\r\n"
        'F1;"Metalúrgica; Ltda.";"first line\r\nsecond line"\r\n'
        "\r\n"  # a blank line: skipped, but it still counts as a spreadsheet row
        'F2;"He said ""hi""";\r\n'
        'F3;"Metal; Ltda.";ok\r\n'
    )
    frame = read_source(write(tmp_path / "firms.csv", text, encoding="cp1252"))
    assert frame["name"].tolist() == ['He said "hi"', "Metal; Ltda."]
    assert frame["_row_number"].tolist() == [5, 6]
    # the record over two lines is set aside as its two lines, each with its reason
    broken = frame.attrs[BROKEN_LINES]
    assert [(b.row, b.rule) for b in broken.lines] == [
        (2, "unbalanced_quote"),
        (3, "unbalanced_quote"),
    ]
    assert broken.lines[0].cells == ("F1", "Metalúrgica; Ltda.", "first line")


def test_rows_wider_or_narrower_than_the_header_are_set_aside(tmp_path: Path) -> None:
    path = write(tmp_path / "outcomes.csv", "firm_id,year,sales\nF1,2020,1,5\nF2,2020\nF3,2020,7\n")
    frame = read_source(path, fmt=SourceFormat(delimiter=","))
    assert frame["firm_id"].tolist() == ["F3"]
    broken = frame.attrs[BROKEN_LINES].lines
    assert [(b.row, b.rule) for b in broken] == [(2, "too_many_fields"), (3, "too_few_fields")]
    assert "4 values on the line, the header has 3 columns" in broken[0].reason


def test_a_file_of_broken_rows_only_is_a_one_line_error(tmp_path: Path) -> None:
    path = write(tmp_path / "outcomes.csv", "firm_id,sales\nF1,1,5\n")
    with pytest.raises(ContractError) as error:
        read_source(path, fmt=SourceFormat(delimiter=","))
    assert "no row of the file can be read; row 2: 3 values on the line" in one_line(error)


def test_duplicate_headers_are_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(ContractError) as error:
        read_source(write(tmp_path / "x.csv", "a,b,a\n1,2,3\n"))
    assert one_line(error) == "x.csv: duplicate column header 'a' (columns 1 and 3)"


# --- XLSX, Parquet, Stata ---------------------------------------------------------------


def write_workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    notes = book.active
    assert notes is not None
    notes.title = "notas"
    notes.append(["Datos enviados por la agencia"])
    sheet = book.create_sheet("participaciones")
    sheet.append(["RUT", "Programa", "Fecha Inicio", "Costo Público", "Año", "Texto"])
    sheet.append(["76.123.456-7", "P1", dt.datetime(2020, 3, 1), 1234567.89, 2015, "1.234,5"])
    sheet.append([12345678, "P1", dt.date(2021, 1, 5), 12.345, 2016.0, None])
    sheet.append([None, None, None, None, None, None])  # formatted but empty: dropped
    sheet.append(["F3", "P1", "05/02/2021", "n/d", 2017, 0.1 + 0.2])
    book.save(path)
    return path


def test_xlsx_sheet_choice_and_canonical_numbers_and_dates(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "agencia.xlsx")
    assert list(read_source(path).columns) == ["Datos enviados por la agencia", "_row_number"]
    for choice in ("participaciones", "PARTICIPACIONES", 1, "1"):
        frame = read_source(path, sheet=choice)
        assert frame["_row_number"].tolist() == [2, 3, 5], choice
    assert read_source(path, fmt=SourceFormat(sheet="participaciones")).shape == (3, 7)
    assert frame["RUT"].tolist() == ["76.123.456-7", "12345678", "F3"]
    assert frame["Fecha Inicio"].tolist() == ["2020-03-01", "2021-01-05", "05/02/2021"]
    assert frame["Costo Público"].tolist() == ["1234567.89", "12.345", "n/d"]
    assert frame["Año"].tolist() == ["2015", "2016", "2017"]
    assert frame["Texto"].tolist() == ["1.234,5", None, "0.3"]


def test_xlsx_numbers_are_not_reread_with_the_text_format(tmp_path: Path) -> None:
    # 12.345 stored as a number is twelve point something even if text uses "." for thousands
    path = write_workbook(tmp_path / "agencia.xlsx")
    mapping = Mapping(
        entity="participations",
        columns={
            "RUT": "firm_id",
            "Programa": "program_id",
            "Fecha Inicio": "start_date",
            "Costo Público": "public_cost",
            "Texto": "firm_contribution",
        },
        format=SourceFormat(decimal=",", thousands=".", sheet="participaciones"),
    )
    frame = read_with_mapping(path, mapping)
    assert frame["public_cost"].tolist() == ["1234567.89", "12.345", "n/d"]
    assert frame["firm_contribution"].tolist() == ["1234.5", None, "0.3"]  # text is read
    assert frame["start_date"].tolist() == ["2020-03-01", "2021-01-05", "2021-02-05"]


def test_a_missing_sheet_is_a_one_line_error_listing_the_sheets(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "agencia.xlsx")
    with pytest.raises(ContractError) as error:
        read_source(path, sheet="beneficiarios")
    assert one_line(error) == (
        "agencia.xlsx: no sheet 'beneficiarios' (sheets: 'notas', 'participaciones')"
    )
    with pytest.raises(ContractError, match="no sheet number 5"):
        read_source(path, sheet=5)


def test_parquet_columns_come_out_as_canonical_text(tmp_path: Path) -> None:
    path = tmp_path / "outcomes.parquet"
    pd.DataFrame(
        {
            "firm_id": ["007", "F2", None],
            "year": pd.array([2015, 2016, None], dtype="Int64"),
            "sales": [1234567.89, 2016.0, float("nan")],
            "employment": pd.array([12.5, None, 3.0], dtype="float32"),
            "surveyed": pd.to_datetime(["2020-03-01", "2020-03-01 10:30", None], format="ISO8601"),
        }
    ).to_parquet(path)
    frame = read_source(path)
    assert frame["firm_id"].tolist() == ["007", "F2", None]
    assert frame["year"].tolist() == ["2015", "2016", None]
    assert frame["sales"].tolist() == ["1234567.89", "2016", None]
    assert frame["employment"].tolist() == ["12.5", None, "3"]
    assert frame["surveyed"].tolist() == ["2020-03-01", "2020-03-01 10:30:00", None]
    assert frame["_row_number"].tolist() == [2, 3, 4]


def test_stata_keeps_codes_unless_labels_are_asked_for(tmp_path: Path) -> None:
    path = tmp_path / "firms.dta"
    pd.DataFrame(
        {
            "rut": ["76123456", "77654321"],
            "region": pd.Categorical(["Biobío", "Ñuble"]),
            "ciiu": [1071, 2511],
            "fundacion": [1990.0, float("nan")],
        }
    ).to_stata(path, write_index=False, version=118)
    codes = read_source(path)
    assert codes["region"].tolist() == ["0", "1"]  # the value codes, lossless
    assert codes["ciiu"].tolist() == ["1071", "2511"]
    assert codes["fundacion"].tolist() == ["1990", None]
    labels = read_source(path, fmt=SourceFormat(value_labels=True))
    assert labels["region"].tolist() == ["Biobío", "Ñuble"]


# --- file-level errors ------------------------------------------------------------------------


def test_file_errors_are_one_line_and_name_the_file(tmp_path: Path) -> None:
    cases = {
        tmp_path / "firms.json": "firms.json: unsupported file type '.json'",
        tmp_path / "firms.xls": "firms.xls: old Excel .xls files are not supported",
        tmp_path / "missing.csv": f"{tmp_path / 'missing.csv'}: file not found",
        write(tmp_path / "empty.csv", ""): "empty.csv: the file is empty",
        write(tmp_path / "blank.csv", "\ufeff\n ; \n\n"): "blank.csv: the file is empty",
        write(tmp_path / "fake.xlsx", "firm_id\nF1\n"): "fake.xlsx: cannot read the file",
        write(tmp_path / "fake.parquet", "x"): "fake.parquet: cannot read the file",
        write(tmp_path / "fake.dta", "x"): "fake.dta: cannot read the file",
    }
    (tmp_path / "folder.csv").mkdir()
    cases[tmp_path / "folder.csv"] = "folder.csv: not a file"
    for path, expected in cases.items():
        with pytest.raises(ContractError) as error:
            read_source(path)
        assert one_line(error).startswith(expected), path.name


def test_a_header_only_file_is_an_empty_frame(tmp_path: Path) -> None:
    frame = read_source(write(tmp_path / "firms.csv", "firm_id;country\n"))
    assert list(frame.columns) == ["firm_id", "country", "_row_number"] and frame.empty


# --- mapping: codes, headers, constants -------------------------------------------------------


def comparison_file(tmp_path: Path) -> Path:
    text = "empresa\tprograma\tola\tfuente\tfecha\n"
    text += "F1\tP1\t1\tREG\t01/03/2020\nF2\tP1\t1\tXYZ\t2020-03-02\nF3\tP1\t1\tENC\t\n"
    return write(tmp_path / "comparacion.tsv", text)


COMPARISON_COLUMNS = {"Empresa": "firm_id", "PROGRAMA": "program_id", "ola": "wave"}


def test_unmapped_codes_are_quarantined_with_the_agency_value(tmp_path: Path) -> None:
    mapping = Mapping(
        entity="comparison_sample",
        columns={**COMPARISON_COLUMNS, "fuente": "source", "fecha": "sampled_on"},
        values={"source": {"REG": "registry", "ENC": "survey"}},
    )
    frame = apply_mapping(read_source(comparison_file(tmp_path)), mapping, "comparison_sample")
    result = validate_rows(frame, "comparison_sample", "comparacion.tsv")
    assert result.valid["source"].tolist() == ["registry", "survey"]
    assert result.valid["sampled_on"].tolist()[0] == pd.Timestamp("2020-03-01")
    assert result.quarantine[["row_number", "rule", "value"]].values.tolist() == [
        [3, "not_allowed", "XYZ"]
    ]


def test_a_constant_fills_a_column_the_file_lacks(tmp_path: Path) -> None:
    mapping = Mapping(
        entity="comparison_sample", columns=COMPARISON_COLUMNS, constants={"source": "survey"}
    )
    frame = apply_mapping(read_source(comparison_file(tmp_path)), mapping, "comparison_sample")
    assert frame["source"].tolist() == ["survey"] * 3
    assert "fuente" in frame.columns  # unmapped columns are kept


def test_two_headers_for_one_column_is_a_one_line_error(tmp_path: Path) -> None:
    path = write(tmp_path / "outcomes.csv", "RUT;firm_id;año\n1;1;2015\n")
    mapping = Mapping(entity="outcomes", columns={"rut": "firm_id", "ano": "year"})
    with pytest.raises(ContractError) as error:
        apply_mapping(read_source(path), mapping, "outcomes")
    assert one_line(error) == (
        "outcomes.csv: columns 'RUT' and 'firm_id' both map to 'firm_id' (mapping mapping)"
    )


def test_a_mapped_required_column_missing_from_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "outcomes.csv", "RUT;ventas\n1;2\n")
    mapping = Mapping(entity="outcomes", columns={"RUT": "firm_id", "año": "year"})
    with pytest.raises(ContractError) as error:
        apply_mapping(read_source(path), mapping, "outcomes")
    assert "no column 'año' for required column 'year' of outcomes" in one_line(error)


def test_headers_match_ignoring_case_accents_and_spaces(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", "CNPJ;DATA  INÍCIO;Custo_Publico;Program ID\n1;2;3;4\n")
    mapping = Mapping(
        entity="participations",
        columns={"cnpj": "firm_id", "data início": "start_date", "custo público": "public_cost"},
    )
    frame = apply_mapping(read_source(path), mapping, "participations")
    assert list(frame.columns) == [
        "firm_id",
        "start_date",
        "public_cost",
        "program_id",  # a contract name, differently written, needs no mapping
        "_row_number",
    ]


def test_identity_mapping_leaves_a_contract_file_as_it_was(tmp_path: Path) -> None:
    header = list(ENTITIES["outcomes"].schema.columns)[:10]
    path = write(
        tmp_path / "outcomes.csv",
        ",".join(header) + "\nF1,2015,12.5,1000000.0,300,0,-400,0,10,500\nF2,2016,,n/d,,,,,,\n",
    )
    before = read_source(path)
    after = apply_mapping(before, Mapping.identity("outcomes"), "outcomes")
    assert after.equals(before)
    assert validate_rows(after, "outcomes", path.name).rows_quarantined == 1


# --- mapping files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BAD_COLUMN, "columns.Razón Social: 'name' is not a column of participations"),
        ("entity: outcome\n", "entity: 'outcome' is not an entity of the contract"),
        ("entity: outcomes\ncolumn: {a: firm_id}\n", "column: unknown key"),
        ("entity: outcomes\nformat: {decimal: ';'}\n", "format.decimal: Input should be"),
        ("entity: outcomes\nformat: {delimiter: ':'}\n", "format.delimiter: must be one of"),
        ("entity: outcomes\nformat: {encoding: klingon}\n", "format.encoding: unknown encoding"),
        ("entity: outcomes\nformat: {decimal: ',', thousands: ','}\n", "must differ"),
        ("entity: outcomes\nformat: {date_format: '%d/%m'}\n", "format.date_format:"),
        ("entity: outcomes\ncolumns: {año: year, Ano: sales}\n", "columns.Ano: same header"),
        ("entity: outcomes\ncolumns: {a: year}\ncolumns: {b: year}\n", "duplicate key 'columns'"),
        ("entity: outcomes\ncolumns: [a, b]\n", "columns: Input should be a valid dictionary"),
        (
            "entity: comparison_sample\nvalues: {source: {R: registri}}\n",
            "values.source.R: 'registri' is not allowed",
        ),
        (
            "entity: outcomes\ncolumns: {fuente: source}\nconstants: {source: x}\n",
            "constants.source: is also read from the file's column 'fuente'",
        ),
        ("entity: [outcomes\n", "invalid YAML"),
        ("- outcomes\n", "a mapping file is a YAML mapping"),
    ],
)
def test_bad_mapping_files_give_one_line_naming_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ContractError) as error:
        load_mapping(write(tmp_path / "agency.yaml", text))
    assert one_line(error).startswith("agency.yaml: ")
    assert message in str(error.value)


def test_mapping_yaml_is_read_as_text(tmp_path: Path) -> None:
    text = 'entity: firms\nvalues: {region: {NO: Norte, 01: Uno, "1": One}}\nconstants: {country: "CHL"}\n'
    mapping = load_mapping(write(tmp_path / "m.yaml", text))
    assert mapping.values["region"] == {"NO": "Norte", "01": "Uno", "1": "One"}
    assert mapping.origin == "m.yaml"
    with pytest.raises(ContractError, match=r"wrong\.yaml: mapping file not found"):
        load_mapping(tmp_path / "wrong.yaml")


def test_a_mapping_for_another_entity_is_refused(tmp_path: Path) -> None:
    frame = read_source(write(tmp_path / "x.csv", "firm_id\nF1\n"))
    with pytest.raises(ContractError, match=r"x\.csv: mapping mapping is for firms, not outcomes"):
        apply_mapping(frame, Mapping.identity("firms"), "outcomes")


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_example_mappings_are_valid(path: Path) -> None:
    mapping = load_mapping(path)
    assert mapping.entity in ENTITIES and mapping.columns
    assert path.read_text(encoding="utf-8").startswith("#")  # each explains its source


def test_chile_outcomes_example_end_to_end(tmp_path: Path) -> None:
    text = (
        "RUT;Razón Social;AÑO;Ventas Netas;Trabajadores;Remuneraciones;Exportaciones;"
        "Valor Agregado;Gasto I+D;Gasto Capacitación;Activo Fijo;Fuente\n"
        "76.123.456-7;Metalúrgica Biobío;2019;1.234.567,89;12,5;300.000;s/i;(1.500);0;"
        "10.000;5.000.000;REG\n"
        "76.123.456-7;Metalúrgica Biobío;2020;n/d;13;310.000;0;400.000;0;0;5.100.000;ENC\n"
    )
    data = write(tmp_path / "resultados_2020.csv", text, encoding="cp1252")
    frame = read_with_mapping(data, load_mapping(EXAMPLES / "chile_outcomes.yaml"))
    result = validate_rows(frame, "outcomes", data.name)
    row = result.valid.iloc[0]
    assert (row["year"], row["sales"], row["employment"]) == (2019, 1234567.89, 12.5)
    assert pd.isna(row["exports"]) and row["value_added"] == -1500.0
    assert row["source"] == "registry" and row["capital"] == 5_000_000.0
    assert result.quarantine[["row_number", "value"]].values.tolist() == [[3, "n/d"]]


def test_brazil_participations_example_end_to_end(tmp_path: Path) -> None:
    text = (
        "CNPJ;Razão Social;Código do Programa;Solução;Data de Início;Data de Término;"
        "Valor Subsidiado;Contrapartida da Empresa\n"
        '12.345.678/0001-90;"Indústria São João; Ltda.";SEBRAETEC;Consultoria em gestão;'
        "03/02/2021;30/06/2021;12.500,00;-\n"
        "98.765.432/0001-10;Açaí do Pará;ALIX;Agentes Locais;15/03/2021;;8.000;2.000,50\n"
    )
    data = write(tmp_path / "atendimentos.csv", text)
    frame = read_with_mapping(data, load_mapping(EXAMPLES / "brazil_participations.yaml"))
    assert frame["Razão Social"].tolist() == ["Indústria São João; Ltda.", "Açaí do Pará"]
    result = validate_rows(frame, "participations", data.name)
    row = result.valid.iloc[0]
    assert (row["program_id"], row["public_cost"]) == ("BR-SEBRAETEC", 12500.0)
    assert row["start_date"] == pd.Timestamp("2021-02-03") and pd.isna(row["firm_contribution"])
    assert result.quarantine.empty
    assert frame["program_id"].tolist()[1] == "ALIX"  # unknown code kept: the warehouse rejects it


def test_peru_firms_example_on_an_xlsx(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "empresas"
    sheet.append(["RUC", "Razón social", "Departamento", "CIIU", "Año de inicio de actividades"])
    sheet.append(["20123456789", "Textiles Andinos", "15", 1410, 1998])
    sheet.append(["20987654321", "Cacao del Cusco", 8, "1073", None])
    book.save(tmp_path / "vouchers.xlsx")
    frame = read_with_mapping(
        tmp_path / "vouchers.xlsx", load_mapping(EXAMPLES / "peru_firms.yaml")
    )
    result = validate_rows(frame, "firms", "vouchers.xlsx")
    assert result.quarantine.empty
    assert result.valid[["region", "isic4", "country"]].values.tolist() == [
        ["Lima", "1410", "PER"],
        ["Cusco", "1073", "PER"],
    ]
    assert result.valid["founded_year"].tolist()[0] == 1998


# --- numbers and dates -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "decimal", "thousands", "expected"),
    [
        ("1.234.567,89", ",", ".", "1234567.89"),
        ("1 234,5", ",", " ", "1234.5"),
        ("1\u00a0234,5", ",", " ", "1234.5"),
        ("(1.234)", ",", ".", "-1234"),
        ("-12,5", ",", ".", "-12.5"),
        ("\u221212,5", ",", None, "-12.5"),
        ("1234,5", ",", ".", "1234.5"),  # grouping is optional
        ("1,234,567.89", ".", ",", "1234567.89"),
        ("12.5", ".", None, "12.5"),
        ("1,5E+06", ",", None, "1.5e+06"),
        ("n/d", ",", ".", None),
        ("1.5", ",", ".", None),  # not a grouping of three: left as sent
        ("0.123", ",", ".", None),  # a leading 0 is no thousands group
        ("1.234,5", ".", None, None),  # the declared format is not guessed
        ("12,34,567", ".", ",", None),
        ("-(5)", ",", ".", None),
        ("", ",", ".", None),
    ],
)
def test_normalize_number(
    text: str, decimal: str, thousands: str | None, expected: str | None
) -> None:
    assert normalize_number(text, decimal, thousands) == expected


def test_normalize_number_for_integer_columns() -> None:
    assert normalize_number("2015,0", ",", ".", integer=True) == "2015"
    assert normalize_number("2.015", ",", ".", integer=True) == "2015"
    assert normalize_number("2015,5", ",", ".", integer=True) is None


@pytest.mark.parametrize(
    ("text", "date_format", "expected"),
    [
        ("01/03/2020", None, "2020-03-01"),
        ("1-3-2020", None, "2020-03-01"),
        ("01.03.2020 00:00", None, "2020-03-01"),
        ("01/03/2020 14:30", None, "2020-03-01 14:30:00"),
        ("2020-03-01", None, "2020-03-01"),
        ("2020-03-01T00:00:00", None, "2020-03-01"),
        ("2020/03/01", None, "2020-03-01"),
        ("31/02/2020", None, None),
        ("03/25/2020", None, None),  # not day first: left for validation to report
        ("n/d", None, None),
        ("03/25/2020", "%m/%d/%Y", "2020-03-25"),
        ("2020-03-01", "%m/%d/%Y", "2020-03-01"),  # ISO is always accepted
        ("01/03/2020", "%m/%d/%Y", "2020-01-03"),  # the given format wins
        ("20200301", "%Y%m%d", "2020-03-01"),
    ],
)
def test_normalize_date(text: str, date_format: str | None, expected: str | None) -> None:
    assert normalize_date(text, date_format) == expected
