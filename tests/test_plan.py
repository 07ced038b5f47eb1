from bot.build.clean import repair_plan
from bot.build.corpus import parse_plan, plan_documents
from bot.config import PROJECT_ROOT, Settings

RAW = next((PROJECT_ROOT / "corpus" / "plan").glob("*.raw.txt")).read_text(encoding="utf-8")
MEASURES = parse_plan(repair_plan(RAW))


def test_26_measures_numbered_in_order_over_6_sections():
    assert [m.number for m in MEASURES] == list(range(1, 27))
    assert sorted({m.section for m in MEASURES}) == [1, 2, 3, 4, 5, 6]
    assert [m.number for m in MEASURES if m.section == 5] == [18, 19, 20, 21, 22]
    assert {m.section for m in MEASURES if m.number in (18, 20)} == {5}


def test_titles_of_key_measures():
    titles = {m.number: m.title for m in MEASURES}
    assert titles[1] == "全面落實外資準入政策措施"
    assert titles[18] == "持續優化外籍人員在深消費便利措施"
    assert titles[20] == "提升城市國際化服務水平"
    assert titles[26] == "開展城市名片系統宣推"
    assert all(t and "。" not in t and "(" not in t for t in titles.values())


def test_sections_titles_and_units():
    by = {m.number: m for m in MEASURES}
    assert by[18].section_title == "營造品質舒適的宜居宜游環境"
    assert by[18].units == ("中國人民銀行深圳市分行", "市商務局", "市委金融辦")
    assert by[20].units == ("市政務和數據局", "市委外辦", "市口岸辦", "市氣象局")
    assert all(m.units for m in MEASURES)


def test_plan_documents_in_both_scripts():
    docs = plan_documents(Settings().corpus_dir)
    assert len(docs) == 52
    m18 = [d for d in docs if d.doc_id == "plan-m18"]
    assert {d.lang for d in m18} == {"zh-Hant", "zh-Hans"}
    hans = next(d for d in m18 if d.lang == "zh-Hans")
    assert "离境退税" in hans.text and "離境退稅" not in hans.text
    assert all(d.measures == (int(d.doc_id[6:]),) for d in docs)
