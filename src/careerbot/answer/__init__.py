"""Answers: the question read against the corpus (rewrite, entities, related, references), the passages
recalled for it (recall), their sentences scored and judged (evidence, decide), the extractive answer
(compose) or a model's (llm), and the one dispatch between them (respond)."""
