"""Question clean-up before retrieval: pasted markup is not part of what is asked."""
from careerbot.answer.rewrite import strip_markup


def test_markup_is_dropped_but_comparisons_stay():
    question = ('What does a lead ML engineer earn? <script>window.x = 1</script>'
                '<img src="http://evil.example/a.png" onerror="window.x = 2">')
    assert strip_markup(question) == "What does a lead ML engineer earn?"
    assert strip_markup("is 3 < 5 and 6 > 2?") == "is 3 < 5 and 6 > 2?"
    assert strip_markup("<b>") == "<b>"  # nothing but markup: left for the answer stage to abstain on


def test_markup_question_is_answered_from_the_articles(kb):
    answer = kb.ask("How much does a Lead Machine Learning Engineer earn? <img src=x onerror=alert(1)>")
    assert not answer.abstained and "153,000" in answer.text
