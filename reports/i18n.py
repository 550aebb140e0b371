"""Labels and text of the site in English, Spanish and Portuguese, and number formatting.

`LABELS` maps a key to its (en, es, pt) text; `Translator(lang)` looks keys up, formats
placeholders and numbers the way each language writes them (1,234.5 / 1.234,5). Data
codes (outcomes, size classes, sectors, rules...) are translated through keys of the form
`<domain>.<code>`; a code without a key is shown as it is (region names, program names
and other registry text are the agency's own words).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Literal, get_args

from evaluation.reasons import REASONS
from evaluation.roi import SCALE_CHOICES

Lang = Literal["en", "es", "pt"]
LANGS: tuple[Lang, ...] = get_args(Lang)
_INDEX = {lang: i for i, lang in enumerate(LANGS)}

LABELS: dict[str, tuple[str, str, str]] = {
    # --- site, navigation, banners, footer ---
    "site.title": (
        "Manufacturing extension programs: results",
        "Programas de extensionismo industrial: resultados",
        "Programas de extensionismo industrial: resultados",
    ),
    "edition.annual": (
        "Annual impact edition",
        "Edición anual de impacto",
        "Edição anual de impacto",
    ),
    "edition.quarterly": (
        "Quarterly monitoring edition",
        "Edición trimestral de seguimiento",
        "Edição trimestral de monitoramento",
    ),
    "edition.public": ("Public edition", "Edición pública", "Edição pública"),
    "edition.internal": ("Internal edition", "Edición interna", "Edição interna"),
    "nav.label": ("Sections", "Secciones", "Seções"),
    "nav.overview": ("Overview", "Panorama", "Panorama"),
    "nav.quality": ("Data quality", "Calidad de los datos", "Qualidade dos dados"),
    "nav.methodology": ("Methodology", "Metodología", "Metodologia"),
    "nav.changes": ("Changes", "Cambios", "Alterações"),
    "banner.synthetic": (
        "Synthetic demo data: every firm, program and figure in this edition is generated. Not real results.",
        "Datos sintéticos de demostración: todas las empresas, programas y cifras de esta edición son generados. No son resultados reales.",
        "Dados sintéticos de demonstração: todas as empresas, programas e números desta edição são gerados. Não são resultados reais.",
    ),
    "banner.internal": (
        "Internal edition: not for publication. Figures are not protected by disclosure control.",
        "Edición interna: no publicar. Las cifras no están protegidas por el control de divulgación.",
        "Edição interna: não publicar. Os números não estão protegidos pelo controle de divulgação.",
    ),
    "footer.edition": ("Edition", "Edición", "Edição"),
    "footer.period": ("period", "período", "período"),
    "footer.data_version": ("input data version", "versión de los datos", "versão dos dados"),
    "footer.code_version": ("code version", "versión del código", "versão do código"),
    "footer.built": ("built", "generada", "gerada"),
    "footer.run": ("run", "corrida", "execução"),
    # --- symbols and notes ---
    "sym.suppressed": ("x", "x", "x"),
    "sym.missing": ("–", "–", "–"),
    "sym.unbounded": ("∞", "∞", "∞"),
    "note.suppressed": (
        "suppressed to protect the confidentiality of firms",
        "suprimido para proteger la confidencialidad de las empresas",
        "suprimido para proteger a confidencialidade das empresas",
    ),
    "note.unbounded_column": (
        "columns ending in _unbounded: true where the figure beside it has no finite value (∞, unbounded), and the figure is then empty",
        "columnas terminadas en _unbounded: true donde la cifra a su lado no tiene valor finito (∞, sin límite), y la cifra queda vacía",
        "colunas terminadas em _unbounded: true onde o número ao lado não tem valor finito (∞, sem limite), e o número fica vazio",
    ),
    "note.would_suppress": (
        "a public edition suppresses this figure",
        "una edición pública suprime esta cifra",
        "uma edição pública suprime este número",
    ),
    "note.symbols": (
        "x: suppressed to protect the confidentiality of firms (disclosure control); not estimated, not estimable: the figure could not be computed, for the reason given in its place (the methodology page lists every reason); –: not available.",
        "x: suprimido para proteger la confidencialidad de las empresas (control de divulgación); no estimado, no estimable: la cifra no pudo calcularse, por el motivo indicado en su lugar (la página de metodología lista todos los motivos); –: no disponible.",
        "x: suprimido para proteger a confidencialidade das empresas (controle de divulgação); não estimado, não estimável: o número não pôde ser calculado, pelo motivo indicado em seu lugar (a página de metodologia lista todos os motivos); –: não disponível.",
    ),
    "note.symbols_internal": (
        "Highlighted figures would be suppressed in a public edition; not estimated, not estimable: the figure could not be computed, for the reason given in its place (the methodology page lists every reason); –: not available.",
        "Las cifras resaltadas se suprimirían en una edición pública; no estimado, no estimable: la cifra no pudo calcularse, por el motivo indicado en su lugar (la página de metodología lista todos los motivos); –: no disponible.",
        "Os números destacados seriam suprimidos em uma edição pública; não estimado, não estimável: o número não pôde ser calculado, pelo motivo indicado em seu lugar (a página de metodologia lista todos os motivos); –: não disponível.",
    ),
    "note.money": (
        "Money in constant {year} US dollars.",
        "Montos en dólares estadounidenses constantes de {year}.",
        "Valores em dólares americanos constantes de {year}.",
    ),
    "note.reach_dates": (
        "Reach and spending count the services that started on or before {end} (participation start dates).",
        "El alcance y el gasto cuentan los servicios iniciados hasta el {end} (fechas de inicio de la participación).",
        "O alcance e o gasto contam os serviços iniciados até {end} (datas de início da participação).",
    ),
    "note.quarterly_no_impact": (
        "Quarterly editions report reach, spending and data quality; impact estimates are published in the annual edition.",
        "Las ediciones trimestrales informan alcance, gasto y calidad de los datos; las estimaciones de impacto se publican en la edición anual.",
        "As edições trimestrais informam alcance, gasto e qualidade dos dados; as estimativas de impacto são publicadas na edição anual.",
    ),
    "note.effects": (
        "Effects are average effects on the treated firms (ATT), Callaway and Sant'Anna (2021), with 95% confidence intervals; for log outcomes in percent, 100×(e^ATT−1).",
        "Los efectos son efectos promedio sobre las empresas tratadas (ATT), Callaway y Sant'Anna (2021), con intervalos de confianza del 95%; para resultados en logaritmos, en porcentaje, 100×(e^ATT−1).",
        "Os efeitos são efeitos médios sobre as empresas tratadas (ATT), Callaway e Sant'Anna (2021), com intervalos de confiança de 95%; para resultados em logaritmo, em percentual, 100×(e^ATT−1).",
    ),
    "note.qvalues": (
        "p: two-sided p-value of no effect; q: sharpened q-value over the program's outcomes (methodology).",
        "p: valor p bilateral de efecto nulo; q: valor q ajustado sobre los resultados del programa (metodología).",
        "p: valor-p bilateral de efeito nulo; q: valor-q ajustado sobre os resultados do programa (metodologia).",
    ),
    "note.pretrend_fail": (
        "The pre-entry test rejects parallel trends for this outcome: read its effects with caution.",
        "La prueba previa al ingreso rechaza tendencias paralelas para este resultado: lea sus efectos con cautela.",
        "O teste anterior à entrada rejeita tendências paralelas para este resultado: leia seus efeitos com cautela.",
    ),
    "note.not_estimated": (
        "Groups with too few beneficiaries are not estimated.",
        "Los grupos con muy pocas beneficiarias no se estiman.",
        "Grupos com poucos beneficiários não são estimados.",
    ),
    "note.registry": (
        "As recorded in the program registry.",
        "Según el registro de programas.",
        "Conforme o registro de programas.",
    ),
    "note.roi": (
        "Counterfactual figures come from the estimated effects, with 95% intervals; self-reported figures are the gross results clients declare in surveys, with no comparison group.",
        "Las cifras contrafactuales provienen de los efectos estimados, con intervalos del 95%; las autodeclaradas son los resultados brutos que los clientes declaran en encuestas, sin grupo de comparación.",
        "Os números contrafactuais vêm dos efeitos estimados, com intervalos de 95%; os autodeclarados são os resultados brutos que os clientes declaram em pesquisas, sem grupo de comparação.",
    ),
    "note.balance": (
        "Standardized mean differences of baseline characteristics, beneficiaries vs comparison firms, before and after matching; |SMD| < 0.1 is the usual target.",
        "Diferencias de medias estandarizadas de las características de línea de base, beneficiarias frente a empresas de comparación, antes y después del emparejamiento; |DME| < 0,1 es la meta habitual.",
        "Diferenças de médias padronizadas das características de linha de base, beneficiárias versus empresas de comparação, antes e depois do pareamento; |DMP| < 0,1 é a meta usual.",
    ),
    "note.no_balance": (
        "This run did not use matching.",
        "Esta corrida no usó emparejamiento.",
        "Esta execução não usou pareamento.",
    ),
    "note.no_estimates": (
        "No estimates for this program in this run.",
        "No hay estimaciones para este programa en esta corrida.",
        "Não há estimativas para este programa nesta execução.",
    ),
    # --- overview ---
    "overview.title": ("Portfolio overview", "Panorama de la cartera", "Panorama da carteira"),
    "overview.lede": (
        "{n} programs, up to {end}.",
        "{n} programas, hasta el {end}.",
        "{n} programas, até {end}.",
    ),
    "overview.portfolio": ("Portfolio", "Cartera", "Carteira"),
    "overview.downloads": ("Downloads", "Descargas", "Downloads"),
    "overview.downloads_note": (
        "Every table of this edition, with the same suppression as the pages: CSV and JSON per table, all tables in one workbook.",
        "Todas las tablas de esta edición, con la misma supresión que las páginas: CSV y JSON por tabla, todas las tablas en un libro.",
        "Todas as tabelas desta edição, com a mesma supressão das páginas: CSV e JSON por tabela, todas as tabelas em uma pasta de trabalho.",
    ),
    "overview.workbook": (
        "All tables (XLSX)",
        "Todas las tablas (XLSX)",
        "Todas as tabelas (XLSX)",
    ),
    "overview.log": (
        "Suppression log",
        "Registro de supresiones",
        "Registro de supressões",
    ),
    "overview.images": (
        "Images of the key charts (PNG)",
        "Imágenes de los gráficos clave (PNG)",
        "Imagens dos gráficos principais (PNG)",
    ),
    "overview.no_images": (
        "Chart images are not available in this edition: {reason}",
        "Las imágenes de los gráficos no están disponibles en esta edición: {reason}",
        "As imagens dos gráficos não estão disponíveis nesta edição: {reason}",
    ),
    "images.no_kaleido": (
        "the kaleido package is not installed.",
        "el paquete kaleido no está instalado.",
        "o pacote kaleido não está instalado.",
    ),
    "images.no_browser": (
        "no Chrome or Chromium browser was found.",
        "no se encontró un navegador Chrome o Chromium.",
        "nenhum navegador Chrome ou Chromium foi encontrado.",
    ),
    "images.failed": (
        "the export failed (see the build's messages).",
        "la exportación falló (vea los mensajes de la generación).",
        "a exportação falhou (veja as mensagens da geração).",
    ),
    "overview.editions": (
        "All editions (index)",
        "Todas las ediciones (índice)",
        "Todas as edições (índice)",
    ),
    "overview.all_programs": ("All programs", "Todos los programas", "Todos os programas"),
    # --- program page ---
    "program.rationale": (
        "Rationale and targeting",
        "Justificación y focalización",
        "Justificativa e focalização",
    ),
    "program.reach": ("Reach", "Alcance", "Alcance"),
    "program.spending": ("Spending", "Gasto", "Gasto"),
    "program.impact": ("Impact", "Impacto", "Impacto"),
    "program.by_horizon": (
        "Effects by horizon",
        "Efectos por horizonte",
        "Efeitos por horizonte",
    ),
    "program.event_study": (
        "Effects by years since entry",
        "Efectos por años desde el ingreso",
        "Efeitos por anos desde a entrada",
    ),
    "program.heterogeneity": (
        "Effects by cohort, size, sector and region",
        "Efectos por cohorte, tamaño, sector y región",
        "Efeitos por coorte, porte, setor e região",
    ),
    "program.heterogeneity_table": (
        "Table of effects by group",
        "Tabla de efectos por grupo",
        "Tabela de efeitos por grupo",
    ),
    "program.roi": (
        "Return on public money and cost per job",
        "Retorno del dinero público y costo por empleo",
        "Retorno do dinheiro público e custo por emprego",
    ),
    "program.benchmarks": (
        "International benchmarks",
        "Referencias internacionales",
        "Referências internacionais",
    ),
    "program.balance": (
        "Balance of the matched comparison group",
        "Balance del grupo de comparación emparejado",
        "Balanceamento do grupo de comparação pareado",
    ),
    "program.matching": (
        "Matching and difference-in-differences (a check)",
        "Emparejamiento y diferencias en diferencias (verificación)",
        "Pareamento e diferenças em diferenças (verificação)",
    ),
    "program.matching_effects": (
        "Effects against matched comparison firms",
        "Efectos frente a empresas de comparación emparejadas",
        "Efeitos frente a empresas de comparação pareadas",
    ),
    "program.by_year": ("By year", "Por año", "Por ano"),
    "program.by_group": (
        "By size class, sector and region",
        "Por tamaño, sector y región",
        "Por porte, setor e região",
    ),
    "program.budget": (
        "Budget and share of GDP",
        "Presupuesto y participación en el PIB",
        "Orçamento e participação no PIB",
    ),
    "program.key_figures": ("Key figures", "Cifras clave", "Números principais"),
    # --- registry fields ---
    "registry.agency": ("Agency", "Agencia", "Agência"),
    "registry.country": ("Country", "País", "País"),
    "registry.pillar": ("Pillar", "Pilar", "Pilar"),
    "registry.instrument": ("Instrument", "Instrumento", "Instrumento"),
    "registry.start_year": ("Start year", "Año de inicio", "Ano de início"),
    "registry.market_failure": ("Market failure", "Falla de mercado", "Falha de mercado"),
    "registry.targeting": ("Targeting", "Focalización", "Focalização"),
    "registry.expected_short": (
        "Expected in the short run (0-1 years)",
        "Esperado en el corto plazo (0-1 años)",
        "Esperado no curto prazo (0-1 anos)",
    ),
    "registry.expected_medium": (
        "Expected in the medium run (2-3 years)",
        "Esperado en el mediano plazo (2-3 años)",
        "Esperado no médio prazo (2-3 anos)",
    ),
    "registry.expected_long": (
        "Expected in the long run (4+ years)",
        "Esperado en el largo plazo (4+ años)",
        "Esperado no longo prazo (4+ anos)",
    ),
    "registry.not_recorded": ("not recorded", "no registrado", "não registrado"),
    # --- table columns ---
    "col.program": ("Program", "Programa", "Programa"),
    "col.program_id": ("Program", "Programa", "Programa"),
    "col.country": ("Country", "País", "País"),
    "col.instrument": ("Instrument", "Instrumento", "Instrumento"),
    "col.year": ("Year", "Año", "Ano"),
    "col.is_total": ("Total row", "Fila de total", "Linha de total"),
    "col.firms_served": ("Firms served", "Empresas atendidas", "Empresas atendidas"),
    "col.firms_entering": ("Firms entering", "Empresas que ingresan", "Empresas que entram"),
    "col.public_cost_usd": ("Public cost (USD)", "Costo público (USD)", "Custo público (USD)"),
    "col.cost_per_firm_usd": (
        "Public cost per firm (USD)",
        "Costo público por empresa (USD)",
        "Custo público por empresa (USD)",
    ),
    "col.coverage_pct": (
        "Coverage of manufacturers (%)",
        "Cobertura de manufactureras (%)",
        "Cobertura de manufatureiras (%)",
    ),
    "col.effect_on": ("Effect on {outcome}", "Efecto sobre {outcome}", "Efeito sobre {outcome}"),
    "col.dimension": ("Breakdown", "Desagregación", "Desagregação"),
    "col.value": ("Group", "Grupo", "Grupo"),
    "col.outcome": ("Outcome", "Resultado", "Resultado"),
    "col.horizon": ("Horizon", "Horizonte", "Horizonte"),
    "col.event_time": ("Years since entry", "Años desde el ingreso", "Anos desde a entrada"),
    "col.effect": ("Effect", "Efecto", "Efeito"),
    "col.ci": ("95% CI", "IC 95%", "IC 95%"),
    "col.ci_low": ("95% CI, low", "IC 95%, inferior", "IC 95%, inferior"),
    "col.ci_high": ("95% CI, high", "IC 95%, superior", "IC 95%, superior"),
    "col.unit": ("Unit", "Unidad", "Unidade"),
    "col.n_treated": ("Beneficiaries", "Beneficiarias", "Beneficiárias"),
    "col.n_control": ("Comparison firms", "Empresas de comparación", "Empresas de comparação"),
    "col.estimated": ("Estimated", "Estimado", "Estimado"),
    "col.pvalue": ("p", "p", "p"),
    "col.qvalue": ("q (sharpened)", "q (ajustado)", "q (ajustado)"),
    "col.pretrend_passes": (
        "Parallel pre-trends",
        "Tendencias previas paralelas",
        "Tendências prévias paralelas",
    ),
    "col.metric": ("Measure", "Medida", "Medida"),
    "col.basis": ("Basis", "Base", "Base"),
    "col.estimate": ("Estimate", "Estimación", "Estimativa"),
    "col.beneficiaries": ("Firms", "Empresas", "Empresas"),
    "col.benchmark_program": ("Program", "Programa", "Programa"),
    "col.benchmark_value": ("Value", "Valor", "Valor"),
    "col.benchmark_unit": ("Unit", "Unidad", "Unidade"),
    "col.benchmark_basis": ("How obtained", "Cómo se obtuvo", "Como foi obtido"),
    "col.benchmark_period": ("Period", "Período", "Período"),
    "col.source": ("Source", "Fuente", "Fonte"),
    "col.covariate": ("Characteristic", "Característica", "Característica"),
    "col.mean_treated_before": (
        "Beneficiaries, before",
        "Beneficiarias, antes",
        "Beneficiárias, antes",
    ),
    "col.mean_control_before": (
        "Comparison, before",
        "Comparación, antes",
        "Comparação, antes",
    ),
    "col.smd_before": ("SMD before", "DME antes", "DMP antes"),
    "col.mean_treated_after": (
        "Beneficiaries, after",
        "Beneficiarias, después",
        "Beneficiárias, depois",
    ),
    "col.mean_control_after": (
        "Comparison, after",
        "Comparación, después",
        "Comparação, depois",
    ),
    "col.smd_after": ("SMD after", "DME después", "DMP depois"),
    "col.n_matched": (
        "Matched beneficiaries",
        "Beneficiarias emparejadas",
        "Beneficiárias pareadas",
    ),
    "col.public_budget_usd": (
        "Public budget (USD)",
        "Presupuesto público (USD)",
        "Orçamento público (USD)",
    ),
    "col.admin_cost_usd": (
        "Administrative cost (USD)",
        "Costo administrativo (USD)",
        "Custo administrativo (USD)",
    ),
    "col.budget_share_gdp_pct": (
        "Budget, % of GDP",
        "Presupuesto, % del PIB",
        "Orçamento, % do PIB",
    ),
    "col.entity": ("Data set", "Conjunto de datos", "Conjunto de dados"),
    "col.rule": ("Rule", "Regla", "Regra"),
    "col.rows": ("Rows", "Filas", "Linhas"),
    "col.grain": ("Level", "Nivel", "Nível"),
    "col.quality_dimension": ("Indicator", "Indicador", "Indicador"),
    "col.period": ("Period", "Período", "Período"),
    "col.period_type": ("Period type", "Tipo de período", "Tipo de período"),
    "col.load_id": ("Submission", "Entrega", "Envio"),
    "col.detail": ("Detail", "Detalle", "Detalhe"),
    "col.numerator": ("Numerator", "Numerador", "Numerador"),
    "col.denominator": ("Denominator", "Denominador", "Denominador"),
    "col.source_file": ("File", "Archivo", "Arquivo"),
    "col.content_sha256": (
        "Content hash (SHA-256)",
        "Huella del contenido (SHA-256)",
        "Hash do conteúdo (SHA-256)",
    ),
    "col.rows_in": ("Rows in", "Filas recibidas", "Linhas recebidas"),
    "col.rows_loaded": ("Loaded", "Cargadas", "Carregadas"),
    "col.rows_quarantined": ("Quarantined", "En cuarentena", "Em quarentena"),
    "col.loaded_at": ("Loaded at", "Cargado el", "Carregado em"),
    "col.table": ("Table", "Tabla", "Tabela"),
    "col.row": ("Row", "Fila", "Linha"),
    "col.column": ("Column", "Columna", "Coluna"),
    "col.cells": ("Cells", "Celdas", "Células"),
    "col.old": ("Previous", "Anterior", "Anterior"),
    "col.new": ("This edition", "Esta edición", "Esta edição"),
    "col.change": ("Change", "Cambio", "Alteração"),
    "col.parameter": ("Parameter", "Parámetro", "Parâmetro"),
    "col.setting": ("Value", "Valor", "Valor"),
    "col.program_name": ("Program", "Programa", "Programa"),
    "col.rule_description": ("Rule", "Regla", "Regra"),
    "col.applied": ("Applied", "Aplicada", "Aplicada"),
    "col.format": ("Files", "Archivos", "Arquivos"),
    "col.status": ("Status", "Estado", "Situação"),
    "col.reason": ("Reason", "Motivo", "Motivo"),
    "col.reason_code": ("Code", "Código", "Código"),
    "col.note": ("Note", "Nota", "Nota"),
    # --- units ---
    "unit.firms": ("firms", "empresas", "empresas"),
    "unit.firms_title": ("Firms", "Empresas", "Empresas"),
    "unit.usd": ("US dollars (constant)", "Dólares (constantes)", "Dólares (constantes)"),
    "unit.pct": ("Percent", "Porcentaje", "Percentual"),
    "unit.pp": ("Percentage points", "Puntos porcentuales", "Pontos percentuais"),
    "unit.jobs": ("Jobs", "Empleos", "Empregos"),
    "unit.usd_per_usd": ("USD per public USD", "USD por USD público", "USD por USD público"),
    "unit.usd_per_job": (
        "Public USD per job",
        "USD públicos por empleo",
        "USD públicos por emprego",
    ),
    "unit.share": ("share", "proporción", "proporção"),
    "unit.days": ("days", "días", "dias"),
    "unit.level": (
        "Level (units of the outcome)",
        "Nivel (unidades del resultado)",
        "Nível (unidades do resultado)",
    ),
    # --- figures ---
    "fig.reach_overview": (
        "Firms entering each program per year",
        "Empresas que ingresan a cada programa por año",
        "Empresas que entram em cada programa por ano",
    ),
    "fig.cost_per_firm": (
        "Public cost per firm served (constant USD)",
        "Costo público por empresa atendida (USD constantes)",
        "Custo público por empresa atendida (USD constantes)",
    ),
    "fig.entering": (
        "Firms entering per year",
        "Empresas que ingresan por año",
        "Empresas que entram por ano",
    ),
    "fig.spending": (
        "Public cost of the services started per year (constant USD)",
        "Costo público de los servicios iniciados por año (USD constantes)",
        "Custo público dos serviços iniciados por ano (USD constantes)",
    ),
    "fig.group_reach": (
        "Firms served by size class, sector and region",
        "Empresas atendidas por tamaño, sector y región",
        "Empresas atendidas por porte, setor e região",
    ),
    "fig.event_study": (
        "Effect on {outcome} by years since entry",
        "Efecto sobre {outcome} por años desde el ingreso",
        "Efeito sobre {outcome} por anos desde a entrada",
    ),
    "fig.years_since_entry": ("Years since entry", "Años desde el ingreso", "Anos desde a entrada"),
    "fig.estimate_ci": ("estimate (95% CI)", "estimación (IC 95%)", "estimativa (IC 95%)"),
    "fig.uniform_band": (
        "simultaneous 95% band",
        "banda simultánea del 95%",
        "banda simultânea de 95%",
    ),
    "fig.planted": (
        "planted effect (synthetic data)",
        "efecto sembrado (datos sintéticos)",
        "efeito plantado (dados sintéticos)",
    ),
    "fig.forest": (
        "Effect on {outcome} by group",
        "Efecto sobre {outcome} por grupo",
        "Efeito sobre {outcome} por grupo",
    ),
    "fig.all_beneficiaries": (
        "all beneficiaries",
        "todas las beneficiarias",
        "todas as beneficiárias",
    ),
    "fig.roi_return": (
        "Return per public dollar",
        "Retorno por dólar público",
        "Retorno por dólar público",
    ),
    "fig.roi_cost_per_job": (
        "Public cost per job created or retained",
        "Costo público por empleo creado o mantenido",
        "Custo público por emprego criado ou mantido",
    ),
    "fig.balance": (
        "Balance before and after matching",
        "Balance antes y después del emparejamiento",
        "Balanceamento antes e depois do pareamento",
    ),
    "fig.before_matching": ("before matching", "antes del emparejamiento", "antes do pareamento"),
    "fig.after_matching": ("after matching", "después del emparejamiento", "depois do pareamento"),
    "fig.smd": (
        "Standardized mean difference",
        "Diferencia de medias estandarizada",
        "Diferença de médias padronizada",
    ),
    # --- data codes ---
    "outcome.log_sales": ("sales", "ventas", "vendas"),
    "outcome.log_employment": ("employment", "empleo", "emprego"),
    "outcome.log_wage_per_worker": (
        "wage per worker",
        "salario por trabajador",
        "salário por trabalhador",
    ),
    "outcome.log_va_per_worker": (
        "value added per worker",
        "valor agregado por trabajador",
        "valor adicionado por trabalhador",
    ),
    "outcome.exporter": ("export propensity", "propensión exportadora", "propensão exportadora"),
    "outcome.rd_intensity": ("R&D intensity", "intensidad de I+D", "intensidade de P&D"),
    "outcome.employment": ("jobs", "empleos", "empregos"),
    "horizon.overall": ("All years", "Todos los años", "Todos os anos"),
    "horizon.short": ("Short run (0-1)", "Corto plazo (0-1)", "Curto prazo (0-1)"),
    "horizon.medium": ("Medium run (2-3)", "Mediano plazo (2-3)", "Médio prazo (2-3)"),
    "horizon.long": ("Long run (4+)", "Largo plazo (4+)", "Longo prazo (4+)"),
    "horizon.pre": ("Before entry", "Antes del ingreso", "Antes da entrada"),
    "dimension.cohort": ("Entry cohort", "Cohorte de ingreso", "Coorte de entrada"),
    "dimension.size_class": ("Size class", "Tamaño", "Porte"),
    "dimension.sector": ("Sector", "Sector", "Setor"),
    "dimension.region": ("Region", "Región", "Região"),
    "value.total": ("Total", "Total", "Total"),
    "value.unknown": ("unknown", "desconocido", "desconhecido"),
    "value.yes": ("yes", "sí", "sim"),
    "value.no": ("no", "no", "não"),
    "size_class.micro (<10)": ("micro (<10)", "micro (<10)", "micro (<10)"),
    "size_class.small (10-49)": ("small (10-49)", "pequeña (10-49)", "pequena (10-49)"),
    "size_class.medium (50-249)": ("medium (50-249)", "mediana (50-249)", "média (50-249)"),
    "size_class.large (250+)": ("large (250+)", "grande (250+)", "grande (250+)"),
    "sector.food, beverages, tobacco": (
        "food, beverages, tobacco",
        "alimentos, bebidas, tabaco",
        "alimentos, bebidas, fumo",
    ),
    "sector.textiles, apparel, leather": (
        "textiles, apparel, leather",
        "textiles, confecciones, cuero",
        "têxteis, vestuário, couro",
    ),
    "sector.wood, paper, printing": (
        "wood, paper, printing",
        "madera, papel, imprenta",
        "madeira, papel, impressão",
    ),
    "sector.chemicals, plastics, minerals": (
        "chemicals, plastics, minerals",
        "químicos, plásticos, minerales",
        "químicos, plásticos, minerais",
    ),
    "sector.metals and metal products": (
        "metals and metal products",
        "metales y productos metálicos",
        "metais e produtos de metal",
    ),
    "sector.machinery, electronics, vehicles": (
        "machinery, electronics, vehicles",
        "maquinaria, electrónica, vehículos",
        "máquinas, eletrônicos, veículos",
    ),
    "sector.furniture, other, repair": (
        "furniture, other, repair",
        "muebles, otras, reparación",
        "móveis, outras, reparação",
    ),
    "sector.non-manufacturing": ("non-manufacturing", "no manufacturera", "não manufatureira"),
    "pillar.productivity": ("productivity", "productividad", "produtividade"),
    "pillar.innovation": ("innovation", "innovación", "inovação"),
    "pillar.supply_chain": ("supply chains", "cadenas de suministro", "cadeias de suprimento"),
    "pillar.exports": ("exports", "exportaciones", "exportações"),
    "instrument.technical_assistance": (
        "technical assistance",
        "asistencia técnica",
        "assistência técnica",
    ),
    "instrument.training": ("training", "capacitación", "capacitação"),
    "instrument.voucher": ("voucher", "bono (voucher)", "voucher"),
    "instrument.matching_grant": (
        "matching grant",
        "subsidio de contrapartida",
        "subvenção com contrapartida",
    ),
    "instrument.loan": ("loan", "crédito", "empréstimo"),
    "instrument.tax_credit": ("tax credit", "crédito fiscal", "crédito fiscal"),
    "instrument.cluster": ("cluster", "clúster", "cluster"),
    "instrument.export_promotion": (
        "export promotion",
        "promoción de exportaciones",
        "promoção de exportações",
    ),
    "instrument.standards": (
        "standards and certification",
        "normas y certificación",
        "normas e certificação",
    ),
    "instrument.rd_grant": ("R&D grant", "subsidio de I+D", "subvenção de P&D"),
    "instrument.other": ("other", "otro", "outro"),
    "metric.value_added_per_dollar": (
        "value added per public dollar",
        "valor agregado por dólar público",
        "valor adicionado por dólar público",
    ),
    "metric.sales_per_dollar": (
        "sales per public dollar",
        "ventas por dólar público",
        "vendas por dólar público",
    ),
    "metric.cost_per_job": (
        "public cost per job",
        "costo público por empleo",
        "custo público por emprego",
    ),
    "metric.return_per_dollar": ("return per dollar", "retorno por dólar", "retorno por dólar"),
    "metric.effect_pct": ("effect (%)", "efecto (%)", "efeito (%)"),
    "basis.counterfactual": ("counterfactual", "contrafactual", "contrafactual"),
    "basis.self_reported": ("self-reported", "autodeclarado", "autodeclarado"),
    "basis.benchmark": ("benchmark", "referencia", "referência"),
    "covariate.log_employment": ("employment (log)", "empleo (log)", "emprego (log)"),
    "covariate.log_sales": ("sales (log)", "ventas (log)", "vendas (log)"),
    "covariate.log_va_per_worker": (
        "value added per worker (log)",
        "valor agregado por trabajador (log)",
        "valor adicionado por trabalhador (log)",
    ),
    "entity.macro": ("macro data", "datos macro", "dados macro"),
    "entity.programs": ("programs", "programas", "programas"),
    "entity.firms": ("firms", "empresas", "empresas"),
    "entity.program_budgets": ("program budgets", "presupuestos", "orçamentos"),
    "entity.participations": ("participations", "participaciones", "participações"),
    "entity.comparison_sample": (
        "comparison sample",
        "muestra de comparación",
        "amostra de comparação",
    ),
    "entity.outcomes": ("outcomes", "resultados", "resultados"),
    "entity.targets": ("targets", "metas", "metas"),
    "entity.client_survey": ("client survey", "encuesta a clientes", "pesquisa com clientes"),
    "rule.not_a_number": ("not a number", "no es un número", "não é um número"),
    "rule.not_a_date": ("not a date", "no es una fecha", "não é uma data"),
    "rule.wrong_type": ("wrong type", "tipo incorrecto", "tipo incorreto"),
    "rule.missing_value": ("missing value", "valor faltante", "valor ausente"),
    "rule.out_of_range": ("out of range", "fuera de rango", "fora do intervalo"),
    "rule.not_allowed": ("value not allowed", "valor no permitido", "valor não permitido"),
    "rule.bad_format": ("bad format", "formato incorrecto", "formato incorreto"),
    "rule.duplicate_key": ("duplicate key", "clave duplicada", "chave duplicada"),
    "rule.end_before_start": (
        "ends before it starts",
        "termina antes de empezar",
        "termina antes de começar",
    ),
    "rule.unknown_firm": ("unknown firm", "empresa desconocida", "empresa desconhecida"),
    "rule.unknown_program": ("unknown program", "programa desconocido", "programa desconhecido"),
    "rule.contract_check": ("contract check", "control del contrato", "verificação do contrato"),
    "rule.comparison_is_beneficiary": (
        "comparison firm is a beneficiary",
        "empresa de comparación es beneficiaria",
        "empresa de comparação é beneficiária",
    ),
    "rule.exports_above_sales": (
        "exports above sales",
        "exportaciones mayores que ventas",
        "exportações maiores que vendas",
    ),
    "rule.implausible_wage_per_worker": (
        "implausible wage per worker",
        "salario por trabajador inverosímil",
        "salário por trabalhador implausível",
    ),
    "rule.value_added_above_sales": (
        "value added above sales",
        "valor agregado mayor que ventas",
        "valor adicionado maior que vendas",
    ),
    "rule.outside_program_life": (
        "outside the program's life",
        "fuera de la vigencia del programa",
        "fora da vigência do programa",
    ),
    "quality.completeness": ("Completeness", "Completitud", "Completude"),
    "quality.validity": ("Validity", "Validez", "Validade"),
    "quality.uniqueness": ("Uniqueness", "Unicidad", "Unicidade"),
    "quality.timeliness": ("Timeliness (days)", "Oportunidad (días)", "Tempestividade (dias)"),
    "quality.consistency": ("Consistency", "Consistencia", "Consistência"),
    "quality.attrition": ("Attrition", "Desgaste de la muestra", "Atrito da amostra"),
    "quality.response_rate": ("Response rate", "Tasa de respuesta", "Taxa de resposta"),
    "group.beneficiaries": ("beneficiaries", "beneficiarias", "beneficiárias"),
    "group.comparison": ("comparison firms", "empresas de comparación", "empresas de comparação"),
    "grain.entity": ("current data", "datos vigentes", "dados vigentes"),
    "grain.submission": ("submission", "entrega", "envio"),
    "grain.period": ("period", "período", "período"),
    "disclosure.min_firms": (
        "fewer than {k} firms",
        "menos de {k} empresas",
        "menos de {k} empresas",
    ),
    "disclosure.dominance": (
        "the {n} largest firms hold more than {share}% of the total",
        "las {n} mayores empresas concentran más del {share}% del total",
        "as {n} maiores empresas concentram mais de {share}% do total",
    ),
    "disclosure.secondary": (
        "complementary: protects a suppressed figure of the same total",
        "complementaria: protege una cifra suprimida del mismo total",
        "complementar: protege um número suprimido do mesmo total",
    ),
    "disclosure.derived": (
        "derived from a suppressed figure",
        "derivada de una cifra suprimida",
        "derivado de um número suprimido",
    ),
    "change.revised": ("revised", "revisada", "revisado"),
    "change.newly_suppressed": ("now suppressed", "ahora suprimida", "agora suprimido"),
    "change.newly_published": ("now published", "ahora publicada", "agora publicado"),
    "change.added": ("new figure", "cifra nueva", "número novo"),
    "change.removed": ("no longer published", "ya no se publica", "não é mais publicado"),
    # --- published tables ---
    "table.portfolio": ("Portfolio", "Cartera", "Carteira"),
    "table.reach_by_year": (
        "Reach and spending by year",
        "Alcance y gasto por año",
        "Alcance e gasto por ano",
    ),
    "table.reach_by_group": (
        "Reach and spending by size, sector and region",
        "Alcance y gasto por tamaño, sector y región",
        "Alcance e gasto por porte, setor e região",
    ),
    "table.budget": (
        "Budgets and share of GDP",
        "Presupuestos y participación en el PIB",
        "Orçamentos e participação no PIB",
    ),
    "table.effects_by_horizon": (
        "Effects by horizon",
        "Efectos por horizonte",
        "Efeitos por horizonte",
    ),
    "table.event_study": (
        "Effects by years since entry",
        "Efectos por años desde el ingreso",
        "Efeitos por anos desde a entrada",
    ),
    "table.heterogeneity": ("Effects by group", "Efectos por grupo", "Efeitos por grupo"),
    "table.roi": (
        "Return per public dollar and cost per job",
        "Retorno por dólar público y costo por empleo",
        "Retorno por dólar público e custo por emprego",
    ),
    "table.benchmarks": (
        "International benchmarks",
        "Referencias internacionales",
        "Referências internacionais",
    ),
    "table.balance": (
        "Matching balance",
        "Balance del emparejamiento",
        "Balanceamento do pareamento",
    ),
    "table.matching": (
        "Effects against matched comparison firms",
        "Efectos frente a empresas de comparación emparejadas",
        "Efeitos frente a empresas de comparação pareadas",
    ),
    "table.quarantine": (
        "Quarantined rows by rule",
        "Filas en cuarentena por regla",
        "Linhas em quarentena por regra",
    ),
    "table.scorecard": (
        "Data-quality scorecard",
        "Indicadores de calidad de datos",
        "Indicadores de qualidade dos dados",
    ),
    "table.loads": ("Loads", "Cargas", "Cargas"),
    "table.decisions": (
        "Decisions on rows (changelog)",
        "Decisiones sobre filas (registro de cambios)",
        "Decisões sobre linhas (registro de alterações)",
    ),
    "quality.decisions": (
        "Decisions on rows: the changelog",
        "Decisiones sobre filas: registro de cambios",
        "Decisões sobre linhas: registro de alterações",
    ),
    "quality.decisions_note": (
        "The agency's corrections file, applied again on every load of the file it names: "
        "keep (a duplicate or a row a plausibility rule rejected), drop (left out, and counted "
        "among the quarantined rows) or correct (a new value, validated like any other). A "
        "decision the file no longer matches is marked unmatched, with what the file has now.",
        "El archivo de correcciones de la agencia, aplicado de nuevo en cada carga del archivo "
        "que nombra: conservar (un duplicado o una fila rechazada por una regla de "
        "plausibilidad), descartar (queda fuera y se cuenta entre las filas en cuarentena) o "
        "corregir (un valor nuevo, validado como cualquier otro). Una decisión que el archivo "
        "ya no coincide se marca sin coincidencia, con lo que el archivo tiene ahora.",
        "O arquivo de correções da agência, aplicado de novo a cada carga do arquivo que "
        "nomeia: manter (uma duplicata ou uma linha rejeitada por uma regra de plausibilidade), "
        "descartar (fica de fora e conta entre as linhas em quarentena) ou corrigir (um valor "
        "novo, validado como qualquer outro). Uma decisão que o arquivo já não corresponde é "
        "marcada sem correspondência, com o que o arquivo tem agora.",
    ),
    "col.action": ("Decision", "Decisión", "Decisão"),
    "col.old_value": ("Value submitted", "Valor enviado", "Valor enviado"),
    "col.new_value": ("New value", "Valor nuevo", "Valor novo"),
    "col.decision_status": ("Status", "Estado", "Situação"),
    "col.decided_by": ("Decided by", "Decidido por", "Decidido por"),
    "col.decided_on": ("On", "Fecha", "Data"),
    "col.why": ("Why", "Motivo", "Motivo"),
    "col.twfe_effect": (
        "Two-way fixed effects (legacy)",
        "Efectos fijos de dos vías (heredado)",
        "Efeitos fixos de duas vias (legado)",
    ),
    "nav.planning": ("Planning", "Planificación", "Planejamento"),
    "planning.title": (
        "Planning the next evaluation",
        "Planificar la próxima evaluación",
        "Planejar a próxima avaliação",
    ),
    "planning.lede": (
        "How small an effect the next evaluation of each program could detect, from this "
        "panel's own noise, serial correlation, cohorts and attrition, with {post_years} "
        "post-entry years per cohort: the minimum detectable effect at 80% power and a 5% "
        "two-sided test. mes-eval plan gives the same figures for other designs.",
        "Qué efecto mínimo podría detectar la próxima evaluación de cada programa, según el "
        "ruido, la correlación serial, las cohortes y el desgaste de este panel, con "
        "{post_years} años posteriores al ingreso por cohorte: el efecto mínimo detectable con "
        "80% de potencia y una prueba bilateral al 5%. mes-eval plan da las mismas cifras para "
        "otros diseños.",
        "Que efeito mínimo a próxima avaliação de cada programa poderia detectar, a partir do "
        "ruído, da correlação serial, das coortes e do atrito deste painel, com {post_years} "
        "anos após a entrada por coorte: o efeito mínimo detectável com 80% de poder e um "
        "teste bilateral a 5%. mes-eval plan dá os mesmos números para outros desenhos.",
    ),
    "planning.treated": ("Beneficiaries", "Beneficiarias", "Beneficiárias"),
    "planning.cohorts": ("Cohorts", "Cohortes", "Coortes"),
    "planning.comparison": (
        "Comparison firms",
        "Empresas de comparación",
        "Empresas de comparação",
    ),
    "planning.se": ("Standard error (%)", "Error estándar (%)", "Erro padrão (%)"),
    "planning.mde": (
        "Minimum detectable effect (%)",
        "Efecto mínimo detectable (%)",
        "Efeito mínimo detectável (%)",
    ),
    "planning.leads": ("Pre-entry years", "Años previos al ingreso", "Anos antes da entrada"),
    "planning.pretrend_slope": (
        "Pre-trend slope the test detects 80% of the time (% a year)",
        "Pendiente previa que la prueba detecta el 80% de las veces (% por año)",
        "Inclinação prévia que o teste detecta 80% das vezes (% ao ano)",
    ),
    "planning.figure": (
        "Power of the next evaluation by true effect",
        "Potencia de la próxima evaluación según el efecto verdadero",
        "Poder da próxima avaliação segundo o efeito verdadeiro",
    ),
    "planning.effect_axis": ("True effect (%)", "Efecto verdadero (%)", "Efeito verdadeiro (%)"),
    "planning.power_axis": ("Power (%)", "Potencia (%)", "Poder (%)"),
    "planning.not_planned": ("not planned", "no planificado", "não planejado"),
    "planning.none": (
        "No program could be planned: the evaluation panel has no headline outcome.",
        "Ningún programa pudo planificarse: el panel de evaluación no tiene un resultado "
        "principal.",
        "Nenhum programa pôde ser planejado: o painel de avaliação não tem um resultado principal.",
    ),
    "planning.note": (
        "Method: the variance of the difference in differences of each firm's post-entry and "
        "pre-entry means under serial correlation (Burlig, Preonas and Woerman 2020), cohort "
        "by cohort, with the comparison firms' own year-to-year changes; checked by placebo "
        "simulation on real panel rows (benchmarks/power_simulation.py). The pre-trend column "
        "is the linear violation the pre-trend test would catch (Roth 2022): a smaller one "
        "could pass unseen. Internal editions only.",
        "Método: la varianza de la diferencia en diferencias de las medias posteriores y "
        "previas al ingreso de cada empresa con correlación serial (Burlig, Preonas y Woerman "
        "2020), cohorte por cohorte, con los cambios anuales de las propias empresas de "
        "comparación; verificado por simulación placebo sobre filas reales del panel "
        "(benchmarks/power_simulation.py). La columna de tendencia previa es la violación "
        "lineal que la prueba de tendencias previas detectaría (Roth 2022): una menor podría "
        "pasar inadvertida. Solo en ediciones internas.",
        "Método: a variância da diferença em diferenças das médias após e antes da entrada de "
        "cada empresa com correlação serial (Burlig, Preonas e Woerman 2020), coorte por "
        "coorte, com as variações anuais das próprias empresas de comparação; verificado por "
        "simulação placebo sobre linhas reais do painel (benchmarks/power_simulation.py). A "
        "coluna de tendência prévia é a violação linear que o teste de tendências prévias "
        "detectaria (Roth 2022): uma menor poderia passar despercebida. Somente em edições "
        "internas.",
    ),
    "col.submitted_value": ("Value submitted", "Valor enviado", "Valor enviado"),
    "table.quarantine_rows": ("Rejected rows", "Filas rechazadas", "Linhas rejeitadas"),
    "quality.rejected_rows": (
        "Rejected rows, one by one",
        "Filas rechazadas, una por una",
        "Linhas rejeitadas, uma a uma",
    ),
    "quality.rejected_rows_note": (
        "The first {shown} of {rows} rejected rows of the current loads, as mes-eval "
        "quarantine lists them (firm identifiers pseudonymized, values as submitted).",
        "Las primeras {shown} de {rows} filas rechazadas de las cargas vigentes, como las "
        "lista mes-eval quarantine (identificadores de empresas seudonimizados, valores tal "
        "como se enviaron).",
        "As primeiras {shown} de {rows} linhas rejeitadas das cargas vigentes, como mes-eval "
        "quarantine as lista (identificadores de empresas pseudonimizados, valores como "
        "enviados).",
    ),
    "quality.rejected_rows_csv": ("All of them (CSV)", "Todas (CSV)", "Todas (CSV)"),
    "col.pseudonym": ("Firm (pseudonym)", "Empresa (seudónimo)", "Empresa (pseudônimo)"),
    "decision.keep": ("keep", "conservar", "manter"),
    "decision.drop": ("drop", "descartar", "descartar"),
    "decision.correct": ("correct", "corregir", "corrigir"),
    "decision_status.applied": ("applied", "aplicada", "aplicada"),
    "decision_status.unmatched": ("unmatched", "sin coincidencia", "sem correspondência"),
    "table.suppression_log": (
        "Suppression log",
        "Registro de supresiones",
        "Registro de supressões",
    ),
    "table.restatement": ("Restatement", "Reexpresión", "Reapresentação"),
    # --- data-quality page ---
    "quality.title": ("Data quality", "Calidad de los datos", "Qualidade dos dados"),
    "quality.lede": (
        "How complete, valid and consistent the data behind this edition are, and which input rows were set aside.",
        "Qué tan completos, válidos y consistentes son los datos de esta edición, y qué filas de entrada se apartaron.",
        "Quão completos, válidos e consistentes são os dados desta edição, e quais linhas de entrada foram separadas.",
    ),
    "quality.scorecard": ("Scorecard", "Indicadores", "Indicadores"),
    "quality.scorecard_missing": (
        "The data-quality scorecard is not yet available for this warehouse.",
        "Los indicadores de calidad de datos aún no están disponibles para este almacén.",
        "Os indicadores de qualidade dos dados ainda não estão disponíveis para este armazém.",
    ),
    "quality.scorecard_note": (
        "Shares of the current data (1 = 100%); completeness, validity and uniqueness count every submitted row, the quarantined ones included; timeliness in days from the end of the period to its delivery.",
        "Proporciones de los datos vigentes (1 = 100%); completitud, validez y unicidad cuentan todas las filas enviadas, también las que quedaron en cuarentena; oportunidad en días desde el fin del período hasta su entrega.",
        "Proporções dos dados vigentes (1 = 100%); completude, validade e unicidade contam todas as linhas enviadas, inclusive as que ficaram em quarentena; tempestividade em dias do fim do período até a entrega.",
    ),
    "quality.scorecard_details": (
        "All indicators",
        "Todos los indicadores",
        "Todos os indicadores",
    ),
    "quality.quarantine": (
        "Quarantined rows by rule",
        "Filas en cuarentena por regla",
        "Linhas em quarentena por regra",
    ),
    "quality.quarantine_note": (
        "Input rows that broke a rule of the data contract are kept aside with their reason and used nowhere.",
        "Las filas de entrada que incumplen una regla del contrato de datos se apartan con su motivo y no se usan.",
        "As linhas de entrada que violam uma regra do contrato de dados são separadas com o motivo e não são usadas.",
    ),
    "quality.no_quarantine": (
        "No row was quarantined.",
        "Ninguna fila quedó en cuarentena.",
        "Nenhuma linha ficou em quarentena.",
    ),
    "quality.loads": ("Files loaded", "Archivos cargados", "Arquivos carregados"),
    "quality.data_docs": ("Data Docs", "Data Docs", "Data Docs"),
    "quality.data_docs_link": (
        "Expectation results (Great Expectations Data Docs)",
        "Resultados de las expectativas (Data Docs de Great Expectations)",
        "Resultados das expectativas (Data Docs do Great Expectations)",
    ),
    "quality.data_docs_missing": (
        "Data Docs are not yet available for this warehouse.",
        "Los Data Docs aún no están disponibles para este almacén.",
        "Os Data Docs ainda não estão disponíveis para este armazém.",
    ),
    "quality.data_docs_internal": (
        "Data Docs show record-level examples, so they are published in internal editions only.",
        "Los Data Docs muestran ejemplos a nivel de registro, por eso solo se publican en ediciones internas.",
        "Os Data Docs mostram exemplos de registros, por isso só são publicados nas edições internas.",
    ),
    # --- changes page ---
    "changes.title": (
        "Changes from the previous edition",
        "Cambios respecto de la edición anterior",
        "Alterações em relação à edição anterior",
    ),
    "changes.first": (
        "This is the first edition for this period: nothing to restate.",
        "Esta es la primera edición de este período: no hay nada que reexpresar.",
        "Esta é a primeira edição deste período: nada a reapresentar.",
    ),
    "changes.none": (
        "No published figure changed from edition {previous}.",
        "Ninguna cifra publicada cambió respecto de la edición {previous}.",
        "Nenhum número publicado mudou em relação à edição {previous}.",
    ),
    "changes.summary": (
        "This edition restates edition {previous}: {n} published figures changed.",
        "Esta edición reexpresa la edición {previous}: cambiaron {n} cifras publicadas.",
        "Esta edição reapresenta a edição {previous}: {n} números publicados mudaram.",
    ),
    "changes.data_versions": (
        "Input data version {old} → {new}; code version {old_code} → {new_code}.",
        "Versión de los datos {old} → {new}; versión del código {old_code} → {new_code}.",
        "Versão dos dados {old} → {new}; versão do código {old_code} → {new_code}.",
    ),
    "changes.truncated": (
        "The first {shown} changes are listed; the full list is in the restatement file.",
        "Se listan los primeros {shown} cambios; la lista completa está en el archivo de reexpresión.",
        "São listadas as primeiras {shown} alterações; a lista completa está no arquivo de reapresentação.",
    ),
    "changes.file": ("Restatement (CSV)", "Reexpresión (CSV)", "Reapresentação (CSV)"),
    # --- methodology page ---
    "method.title": ("Methodology", "Metodología", "Metodologia"),
    "method.methods": ("Methods", "Métodos", "Métodos"),
    "method.did": (
        "Impact is estimated with staggered difference-in-differences (Callaway and Sant'Anna, 2021): for each entry cohort and year, the change in the outcome of beneficiaries since the year before entry is compared with the change of comparison firms that never took part ({control_group}). These group-time effects are averaged by years since entry (event study), by entry cohort and overall, with standard errors clustered by firm. The shaded band of the event-study charts is a simultaneous 95% band (multiplier bootstrap): it covers all the years' effects at once, so the whole path can be read without the risk of over-reading one year that pointwise intervals carry.",
        "El impacto se estima con diferencias en diferencias escalonadas (Callaway y Sant'Anna, 2021): para cada cohorte de ingreso y año, el cambio del resultado de las beneficiarias desde el año previo al ingreso se compara con el cambio de empresas de comparación que nunca participaron ({control_group}). Estos efectos por grupo y período se promedian por años desde el ingreso (estudio de eventos), por cohorte y en total, con errores estándar agrupados por empresa. La banda sombreada de los gráficos de estudio de eventos es una banda simultánea del 95% (bootstrap de multiplicadores): cubre a la vez los efectos de todos los años, de modo que la trayectoria completa puede leerse sin sobreinterpretar un año aislado, como ocurre con los intervalos puntuales.",
        "O impacto é estimado com diferenças em diferenças escalonadas (Callaway e Sant'Anna, 2021): para cada coorte de entrada e ano, a variação do resultado das beneficiárias desde o ano anterior à entrada é comparada com a variação de empresas de comparação que nunca participaram ({control_group}). Esses efeitos por grupo e período são agregados por anos desde a entrada (estudo de eventos), por coorte e no total, com erros-padrão agrupados por empresa. A faixa sombreada dos gráficos de estudo de eventos é uma banda simultânea de 95% (bootstrap de multiplicadores): cobre ao mesmo tempo os efeitos de todos os anos, de modo que a trajetória inteira pode ser lida sem superinterpretar um ano isolado, como ocorre com os intervalos pontuais.",
    ),
    "method.qvalues": (
        "A program is judged on several outcomes at once, so some effects would look significant by chance alone. Beside each overall effect's p-value (two-sided, of no effect), the program page gives its sharpened q-value over the program's outcomes (Benjamini, Krieger and Yekutieli 2006, as computed by Anderson 2008): the smallest false discovery rate at which the effect counts as a discovery. Calling every effect with q ≤ 0.05 real, at most 5% of those are expected to be false.",
        "Un programa se juzga por varios resultados a la vez, por lo que algunos efectos parecerían significativos solo por azar. Junto al valor p de cada efecto global (bilateral, de efecto nulo), la página del programa da su valor q ajustado sobre los resultados del programa (Benjamini, Krieger y Yekutieli 2006, calculado como en Anderson 2008): la menor tasa de falsos descubrimientos a la que el efecto cuenta como descubrimiento. Si se da por real cada efecto con q ≤ 0,05, se espera que a lo sumo el 5% de ellos sea falso.",
        "Um programa é julgado por vários resultados ao mesmo tempo, de modo que alguns efeitos pareceriam significativos só por acaso. Ao lado do valor-p de cada efeito global (bilateral, de efeito nulo), a página do programa dá o seu valor-q ajustado sobre os resultados do programa (Benjamini, Krieger e Yekutieli 2006, calculado como em Anderson 2008): a menor taxa de falsas descobertas à qual o efeito conta como descoberta. Tomando como real cada efeito com q ≤ 0,05, espera-se que no máximo 5% deles sejam falsos.",
    ),
    "method.horizons": (
        "Horizons follow the years since entry: short run 0-1 years, medium run 2-3, long run 4 or more. Cohorts are followed across editions, so each annual edition re-estimates earlier cohorts on a longer panel.",
        "Los horizontes siguen los años desde el ingreso: corto plazo 0-1 años, mediano 2-3, largo 4 o más. Las cohortes se siguen entre ediciones, de modo que cada edición anual vuelve a estimar las cohortes anteriores con un panel más largo.",
        "Os horizontes seguem os anos desde a entrada: curto prazo 0-1 anos, médio 2-3, longo 4 ou mais. As coortes são acompanhadas entre edições, de modo que cada edição anual reestima as coortes anteriores com um painel mais longo.",
    ),
    "method.subgroups": (
        "Effects by size class, sector and region are estimated separately for each group with at least {min_subgroup} beneficiaries; they show for whom a program works, to inform targeting, but differences between groups are not themselves causal.",
        "Los efectos por tamaño, sector y región se estiman por separado para cada grupo con al menos {min_subgroup} beneficiarias; muestran para quién funciona un programa, como insumo para la focalización, pero las diferencias entre grupos no son en sí mismas causales.",
        "Os efeitos por porte, setor e região são estimados separadamente para cada grupo com pelo menos {min_subgroup} beneficiárias; mostram para quem um programa funciona, para orientar a focalização, mas as diferenças entre grupos não são em si causais.",
    ),
    "method.matching": (
        "As a check, beneficiaries are also matched to comparison firms of the same sector on baseline size and productivity (caliper {caliper} standard deviations of the score) and the matched pairs are compared before and after entry; the balance chart shows how similar the matched groups are.",
        "Como verificación, las beneficiarias también se emparejan con empresas de comparación del mismo sector según tamaño y productividad de línea de base (caliper de {caliper} desviaciones estándar del puntaje) y se comparan los pares antes y después del ingreso; el gráfico de balance muestra cuán parecidos son los grupos emparejados.",
        "Como verificação, as beneficiárias também são pareadas com empresas de comparação do mesmo setor por porte e produtividade de linha de base (caliper de {caliper} desvios-padrão do escore) e os pares são comparados antes e depois da entrada; o gráfico de balanceamento mostra quão parecidos são os grupos pareados.",
    ),
    "method.roi": (
        "Return per public dollar is the estimated extra value added (or sales) of beneficiaries, summed over firms and post-entry years, divided by their public cost; cost per job is the public cost divided by the estimated jobs created or retained in the last year. Both carry 95% intervals from the same influence functions as the effects. Self-reported (gross) figures from client surveys are shown beside them, as are the international benchmarks.",
        "El retorno por dólar público es el valor agregado (o las ventas) adicional estimado de las beneficiarias, sumado sobre empresas y años posteriores al ingreso, dividido por su costo público; el costo por empleo es el costo público dividido por los empleos creados o mantenidos estimados en el último año. Ambos llevan intervalos del 95% a partir de las mismas funciones de influencia que los efectos. Al lado se muestran las cifras autodeclaradas (brutas) de las encuestas a clientes y las referencias internacionales.",
        "O retorno por dólar público é o valor adicionado (ou as vendas) adicional estimado das beneficiárias, somado sobre empresas e anos posteriores à entrada, dividido pelo custo público; o custo por emprego é o custo público dividido pelos empregos criados ou mantidos estimados no último ano. Ambos têm intervalos de 95% a partir das mesmas funções de influência que os efeitos. Ao lado aparecem os números autodeclarados (brutos) das pesquisas com clientes e as referências internacionais.",
    ),
    "method.assumptions": ("Assumptions", "Supuestos", "Hipóteses"),
    "method.parallel": (
        "Parallel trends: without the program, beneficiaries' outcomes would have evolved like those of comparison firms. It cannot be proven; the pre-entry test (effects before entry should be zero, level {level}) can reject it, and each outcome says whether it passes. The test uses the years before entry backed by at least {min_firms} beneficiaries: years resting on fewer firms make it reject too often.",
        "Tendencias paralelas: sin el programa, los resultados de las beneficiarias habrían evolucionado como los de las empresas de comparación. No puede probarse; la prueba previa al ingreso (los efectos antes del ingreso deben ser cero, nivel {level}) puede rechazarlo, y cada resultado indica si la supera. La prueba usa los años previos al ingreso respaldados por al menos {min_firms} beneficiarias: los años con menos empresas la hacen rechazar con demasiada frecuencia.",
        "Tendências paralelas: sem o programa, os resultados das beneficiárias teriam evoluído como os das empresas de comparação. Não pode ser provado; o teste anterior à entrada (os efeitos antes da entrada devem ser zero, nível {level}) pode rejeitá-lo, e cada resultado indica se passa. O teste usa os anos anteriores à entrada com pelo menos {min_firms} beneficiárias: anos com menos empresas o fazem rejeitar com frequência excessiva.",
    ),
    "method.anticipation": (
        "No anticipation beyond {anticipation} years before entry, and no effects of the program on comparison firms.",
        "Sin anticipación más allá de {anticipation} años antes del ingreso, y sin efectos del programa sobre las empresas de comparación.",
        "Sem antecipação além de {anticipation} anos antes da entrada, e sem efeitos do programa sobre as empresas de comparação.",
    ),
    "method.selection": (
        "Firms may select into programs on permanent differences (size, productivity); differencing removes those, but not differences in trends.",
        "Las empresas pueden autoseleccionarse en los programas por diferencias permanentes (tamaño, productividad); la diferenciación las elimina, pero no las diferencias de tendencia.",
        "As empresas podem se autosselecionar nos programas por diferenças permanentes (porte, produtividade); a diferenciação as elimina, mas não as diferenças de tendência.",
    ),
    "method.prices": (
        "Money is converted to constant {year} US dollars with each country's deflator and exchange rate.",
        "Los montos se convierten a dólares constantes de {year} con el deflactor y el tipo de cambio de cada país.",
        "Os valores são convertidos em dólares constantes de {year} com o deflator e a taxa de câmbio de cada país.",
    ),
    "method.can": (
        "What the numbers can say",
        "Qué pueden decir las cifras",
        "O que os números podem dizer",
    ),
    "method.can_1": (
        "The average effect of each program on the firms it served, by horizon, with its uncertainty.",
        "El efecto promedio de cada programa sobre las empresas que atendió, por horizonte, con su incertidumbre.",
        "O efeito médio de cada programa sobre as empresas atendidas, por horizonte, com sua incerteza.",
    ),
    "method.can_2": (
        "Whether the net (counterfactual) return per dollar and cost per job are above or below the gross self-reported figures and the international benchmarks.",
        "Si el retorno neto (contrafactual) por dólar y el costo por empleo están por encima o por debajo de las cifras brutas autodeclaradas y de las referencias internacionales.",
        "Se o retorno líquido (contrafactual) por dólar e o custo por emprego estão acima ou abaixo dos números brutos autodeclarados e das referências internacionais.",
    ),
    "method.can_3": (
        "How reach and spending evolve, and how complete and valid the data are.",
        "Cómo evolucionan el alcance y el gasto, y qué tan completos y válidos son los datos.",
        "Como evoluem o alcance e o gasto, e quão completos e válidos são os dados.",
    ),
    "method.cannot": ("What they cannot say", "Qué no pueden decir", "O que não podem dizer"),
    "method.cannot_1": (
        "The effect on firms that did not take part, or on future beneficiaries if the program changes or grows.",
        "El efecto sobre empresas que no participaron, ni sobre futuras beneficiarias si el programa cambia o crece.",
        "O efeito sobre empresas que não participaram, nem sobre futuras beneficiárias se o programa mudar ou crescer.",
    ),
    "method.cannot_2": (
        "Effects on the economy as a whole: gains taken from competitors are only netted out at the displacement share assumed.",
        "Efectos sobre la economía en su conjunto: las ganancias tomadas a competidores solo se descuentan según el desplazamiento supuesto.",
        "Efeitos sobre a economia como um todo: os ganhos tomados de concorrentes só são descontados pelo deslocamento suposto.",
    ),
    "method.cannot_3": (
        "Why a program works, or which of its services does: estimates are per program, not per service.",
        "Por qué funciona un programa, ni cuál de sus servicios: las estimaciones son por programa, no por servicio.",
        "Por que um programa funciona, nem qual de seus serviços: as estimativas são por programa, não por serviço.",
    ),
    "method.cannot_4": (
        "Precise effects for small groups: intervals widen as groups shrink, and groups with few firms are not estimated or not shown.",
        "Efectos precisos para grupos pequeños: los intervalos se amplían al reducirse los grupos, y los grupos con pocas empresas no se estiman o no se muestran.",
        "Efeitos precisos para grupos pequenos: os intervalos aumentam quando os grupos diminuem, e grupos com poucas empresas não são estimados ou não são mostrados.",
    ),
    "method.disclosure": ("Disclosure control", "Control de divulgación", "Controle de divulgação"),
    "method.disclosure_text": (
        "Public editions suppress every figure that rests on fewer than {k} firms, and every sum of money or jobs of which the {n} largest firms hold more than {share}%. Where a suppressed figure could be recovered from a total, at least one more figure of the same total is suppressed. Ratios and intervals of a suppressed figure are suppressed with it. Each suppression is listed, with its rule, in the suppression log.",
        "Las ediciones públicas suprimen toda cifra que se basa en menos de {k} empresas, y toda suma de dinero o empleos en la que las {n} mayores empresas concentran más del {share}%. Cuando una cifra suprimida podría recuperarse a partir de un total, se suprime al menos otra cifra del mismo total. Las razones e intervalos de una cifra suprimida se suprimen con ella. Cada supresión figura, con su regla, en el registro de supresiones.",
        "As edições públicas suprimem todo número baseado em menos de {k} empresas, e toda soma de dinheiro ou empregos em que as {n} maiores empresas concentram mais de {share}%. Quando um número suprimido poderia ser recuperado a partir de um total, pelo menos outro número do mesmo total é suprimido. Razões e intervalos de um número suprimido são suprimidos com ele. Cada supressão consta, com sua regra, no registro de supressões.",
    ),
    "method.disclosure_limit": (
        "Figures of different editions are protected each on its own: comparing two quarterly editions can reveal how many firms entered in between.",
        "Las cifras de distintas ediciones se protegen cada una por separado: comparar dos ediciones trimestrales puede revelar cuántas empresas ingresaron entre ambas.",
        "Os números de edições diferentes são protegidos cada um separadamente: comparar duas edições trimestrais pode revelar quantas empresas entraram entre elas.",
    ),
    "method.disclosure_summary": (
        "Suppressed cells in this edition",
        "Celdas suprimidas en esta edición",
        "Células suprimidas nesta edição",
    ),
    "method.disclosure_none": (
        "No cell needed suppression in this edition.",
        "Ninguna celda requirió supresión en esta edición.",
        "Nenhuma célula precisou ser suprimida nesta edição.",
    ),
    "method.audit": (
        "Protection audit",
        "Auditoría de la protección",
        "Auditoria da proteção",
    ),
    "method.audit_text": (
        "Suppression is checked the way an attacker would undo it. From every published figure, the sums that tie the tables together (years, groups and programs to their totals; quarantined rows to their entity) and the fact that counts and money are never negative, a linear program computes the range each suppressed figure could take. Each range must reach at least {p}% of the figure on either side; a count under {k} must also look like it could be {k} or more, and a sum held over {share}% by its largest firms like one they would not dominate. Where a range falls short, further figures are suppressed until all pass. The certificate lists every audited figure and whether it passes, not the range itself.",
        "La supresión se verifica como la desharía un atacante. A partir de cada cifra publicada, de las sumas que enlazan las tablas (años, grupos y programas con sus totales; filas en cuarentena con su entidad) y de que los conteos y el dinero nunca son negativos, un programa lineal calcula el rango que podría tomar cada cifra suprimida. Cada rango debe alcanzar al menos el {p}% de la cifra hacia ambos lados; un conteo menor que {k} debe además poder ser {k} o más, y una suma concentrada en más del {share}% en sus mayores empresas, una que estas no dominarían. Donde un rango no alcanza, se suprimen más cifras hasta que todas cumplen. El certificado lista cada cifra auditada y si cumple, no el rango.",
        "A supressão é verificada como um atacante a desfaria. A partir de cada número publicado, das somas que ligam as tabelas (anos, grupos e programas a seus totais; linhas em quarentena à sua entidade) e de que contagens e dinheiro nunca são negativos, um programa linear calcula o intervalo que cada número suprimido poderia assumir. Cada intervalo deve alcançar pelo menos {p}% do número para ambos os lados; uma contagem menor que {k} deve também poder ser {k} ou mais, e uma soma concentrada em mais de {share}% em suas maiores empresas, uma que elas não dominariam. Onde um intervalo não alcança, mais números são suprimidos até que todos passem. O certificado lista cada número auditado e se passa, não o intervalo.",
    ),
    "audit.tables": ("Tables audited", "Tablas auditadas", "Tabelas auditadas"),
    "audit.suppressed": (
        "Cells suppressed in them",
        "Celdas suprimidas en ellas",
        "Células suprimidas nelas",
    ),
    "audit.added": (
        "Of which suppressed by the audit",
        "De ellas, suprimidas por la auditoría",
        "Das quais suprimidas pela auditoria",
    ),
    "audit.audited": (
        "Sensitive cells audited",
        "Celdas sensibles auditadas",
        "Células sensíveis auditadas",
    ),
    "audit.passing": (
        "Meeting their required protection",
        "Que cumplen la protección requerida",
        "Que atendem à proteção exigida",
    ),
    "audit.pass": (
        "Every audited cell's range is at least its required protection.",
        "El rango de cada celda auditada alcanza al menos la protección requerida.",
        "O intervalo de cada célula auditada alcança pelo menos a proteção exigida.",
    ),
    "audit.fail": (
        "{n} audited cells fall short of their required protection.",
        "{n} celdas auditadas no alcanzan la protección requerida.",
        "{n} células auditadas não alcançam a proteção exigida.",
    ),
    "method.editions": (
        "Editions and traceability",
        "Ediciones y trazabilidad",
        "Edições e rastreabilidade",
    ),
    "method.editions_text": (
        "Each build is a new, immutable edition with its own identifier; every page names the input data version (a hash of every file loaded), the code version and the build time. Re-publishing a period creates a new edition that lists which published figures changed.",
        "Cada generación es una edición nueva e inmutable con su propio identificador; cada página indica la versión de los datos (una huella de todos los archivos cargados), la versión del código y la hora de generación. Volver a publicar un período crea una nueva edición que lista qué cifras publicadas cambiaron.",
        "Cada geração é uma edição nova e imutável com seu próprio identificador; cada página indica a versão dos dados (um hash de todos os arquivos carregados), a versão do código e a hora de geração. Republicar um período cria uma nova edição que lista quais números publicados mudaram.",
    ),
    "method.parameters": (
        "Specification of this run",
        "Especificación de esta corrida",
        "Especificação desta execução",
    ),
    "param.control_group": ("Comparison group", "Grupo de comparación", "Grupo de comparação"),
    "param.anticipation": ("Anticipation (years)", "Anticipación (años)", "Antecipação (anos)"),
    "param.min_subgroup_beneficiaries": (
        "Smallest group estimated (beneficiaries)",
        "Grupo más pequeño estimado (beneficiarias)",
        "Menor grupo estimado (beneficiárias)",
    ),
    "param.displacement": ("Displacement", "Desplazamiento", "Deslocamento"),
    "param.deadweight": (
        "Deadweight (self-reports)",
        "Peso muerto (autodeclaraciones)",
        "Peso morto (autodeclarações)",
    ),
    "param.matching_caliper": (
        "Matching caliper",
        "Caliper del emparejamiento",
        "Caliper do pareamento",
    ),
    "param.pretrend_level": (
        "Pre-trend test level",
        "Nivel de la prueba de tendencias previas",
        "Nível do teste de tendências prévias",
    ),
    "param.min_firms": (
        "Disclosure: smallest number of firms",
        "Divulgación: número mínimo de empresas",
        "Divulgação: número mínimo de empresas",
    ),
    "param.dominance": (
        "Disclosure: dominance rule",
        "Divulgación: regla de dominancia",
        "Divulgação: regra de dominância",
    ),
    "control_group.nevertreated": (
        "never-treated firms",
        "empresas nunca tratadas",
        "empresas nunca tratadas",
    ),
    "control_group.notyettreated": (
        "not-yet-treated firms",
        "empresas aún no tratadas",
        "empresas ainda não tratadas",
    ),
    # --- benchmark descriptions (reference.benchmarks) ---
    "bench.economic growth (new sales)": (
        "economic growth (new sales)",
        "crecimiento económico (nuevas ventas)",
        "crescimento econômico (novas vendas)",
    ),
    "bench.jobs created or retained": (
        "jobs created or retained",
        "empleos creados o mantenidos",
        "empregos criados ou mantidos",
    ),
    "bench.additional value added": (
        "additional value added",
        "valor agregado adicional",
        "valor adicionado adicional",
    ),
    "bench.economic activity": ("economic activity", "actividad económica", "atividade econômica"),
    "bench.sales": ("sales", "ventas", "vendas"),
    "bench.employment": ("employment", "empleo", "emprego"),
    "bench.rd_spend": ("R&D spending", "gasto en I+D", "gasto em P&D"),
    "bench.productivity": ("productivity", "productividad", "produtividade"),
    "bench.USD per USD of federal investment": (
        "USD per USD of federal investment",
        "USD por USD de inversión federal",
        "USD por USD de investimento federal",
    ),
    "bench.USD of federal investment per job": (
        "USD of federal investment per job",
        "USD de inversión federal por empleo",
        "USD de investimento federal por emprego",
    ),
    "bench.USD per USD of public investment": (
        "USD per USD of public investment",
        "USD por USD de inversión pública",
        "USD por USD de investimento público",
    ),
    "bench.USD of public investment per job": (
        "USD of public investment per job",
        "USD de inversión pública por empleo",
        "USD de investimento público por emprego",
    ),
    "bench.percent": ("percent", "por ciento", "por cento"),
    "bench.client self-reports (surveys)": (
        "client self-reports (surveys)",
        "autodeclaraciones de clientes (encuestas)",
        "autodeclarações de clientes (pesquisas)",
    ),
    "bench.interviews, surveys, trend and indicator analysis": (
        "interviews, surveys, trend and indicator analysis",
        "entrevistas, encuestas, análisis de tendencias e indicadores",
        "entrevistas, pesquisas, análise de tendências e indicadores",
    ),
    "bench.program review": ("program review", "revisión del programa", "revisão do programa"),
    "bench.surveys, regression and cost-benefit analysis": (
        "surveys, regression and cost-benefit analysis",
        "encuestas, regresiones y análisis costo-beneficio",
        "pesquisas, regressões e análise custo-benefício",
    ),
}

# --- why a figure is not estimated (evaluation.reasons) --------------------------------
# Spanish and Portuguese texts of every reason code, with the catalogue's {placeholders};
# the English text is the catalogue's own (evaluation.reasons.REASONS).
REASON_TEXTS: dict[str, tuple[str, str]] = {
    "too_few_beneficiaries": (
        "{n} beneficiarias, menos de las {min} requeridas",
        "{n} beneficiárias, menos que as {min} exigidas",
    ),
    "no_beneficiaries": (
        "ninguna beneficiaria tiene datos de resultados",
        "nenhuma beneficiária tem dados de resultados",
    ),
    "no_comparison_firms": (
        "no hay empresas de comparación con datos de resultados",
        "não há empresas de comparação com dados de resultados",
    ),
    "no_comparison_cells": (
        "ninguna cohorte de ingreso tiene empresas de comparación observadas en los mismos años "
        "(comparación con {control_group}: p. ej., una sola cohorte de ingreso y ninguna empresa "
        "nunca tratada)",
        "nenhuma coorte de entrada tem empresas de comparação observadas nos mesmos anos "
        "(comparação com {control_group}: p. ex., uma só coorte de entrada e nenhuma empresa "
        "nunca tratada)",
    ),
    "no_pre_entry_year": (
        "ninguna beneficiaria se observa en un año anterior al ingreso",
        "nenhuma beneficiária é observada em um ano anterior à entrada",
    ),
    "no_post_entry_year": (
        "ninguna beneficiaria se observa en un año posterior al ingreso",
        "nenhuma beneficiária é observada em um ano posterior à entrada",
    ),
    "outcome_not_submitted": (
        "{column} no figura en la entrega (no tiene ningún valor)",
        "{column} não consta do envio (não tem nenhum valor)",
    ),
    "outcome_too_sparse": (
        "{column} falta para las beneficiarias o para sus empresas de comparación",
        "{column} está ausente para as beneficiárias ou para suas empresas de comparação",
    ),
    "no_public_cost": (
        "no hay costo público registrado para las beneficiarias en que se basa el efecto",
        "não há custo público registrado para as beneficiárias em que se baseia o efeito",
    ),
    "no_jobs_created": (
        "los empleos creados o retenidos estimados son {jobs} (ninguno): no hay costo por empleo",
        "os empregos criados ou mantidos estimados são {jobs} (nenhum): não há custo por emprego",
    ),
    "no_post_entry_effect": (
        "no pudo estimarse ningún efecto posterior al ingreso sobre {outcome}",
        "não foi possível estimar nenhum efeito posterior à entrada sobre {outcome}",
    ),
    "matching_no_covariates": (
        "ninguna covariable del emparejamiento tiene datos antes del ingreso ({covariates})",
        "nenhuma covariável do pareamento tem dados antes da entrada ({covariates})",
    ),
    "matching_no_baseline": (
        "{n} beneficiarias tienen sus covariables de emparejamiento en un año anterior al "
        "ingreso, menos de las {min} requeridas",
        "{n} beneficiárias têm suas covariáveis de pareamento em um ano anterior à entrada, "
        "menos que as {min} exigidas",
    ),
    "matching_no_overlap": (
        "ninguna beneficiaria tiene una empresa de comparación dentro del caliper en su celda "
        "de emparejamiento exacto",
        "nenhuma beneficiária tem uma empresa de comparação dentro do caliper em sua célula de "
        "pareamento exato",
    ),
    "matching_no_window": (
        "ningún par emparejado se observa a la vez en la ventana previa al ingreso {pre} y en "
        "la posterior {post}",
        "nenhum par pareado é observado ao mesmo tempo na janela anterior à entrada {pre} e "
        "na posterior {post}",
    ),
    "matching_no_cells": (
        "ninguna celda de emparejamiento exacto ({exact}) contiene a la vez beneficiarias y "
        "empresas de comparación",
        "nenhuma célula de pareamento exato ({exact}) contém ao mesmo tempo beneficiárias e "
        "empresas de comparação",
    ),
    "outcome_constant": (
        "{column} es constante dentro de cada empresa",
        "{column} é constante dentro de cada empresa",
    ),
    "outcome_no_variation": (
        "{column} toma un único valor en todas las empresas y años",
        "{column} assume um único valor em todas as empresas e anos",
    ),
    "estimation_failed": (
        "el estimador falló: {error}",
        "o estimador falhou: {error}",
    ),
    "pretrend_too_few_firms": (
        "{n} beneficiarias en los años previos al ingreso, menos de {min}",
        "{n} beneficiárias nos anos anteriores à entrada, menos de {min}",
    ),
    "pretrend_no_leads": (
        "no hay años previos al ingreso que probar",
        "não há anos anteriores à entrada para testar",
    ),
    "pretrend_no_variance": (
        "las estimaciones previas al ingreso no tienen varianza",
        "as estimativas anteriores à entrada não têm variância",
    ),
    "no_client_survey": ("no hay encuesta a clientes", "não há pesquisa com clientes"),
    "claims_no_records": (
        "ninguna empresa que respondió se observa en los resultados a la vez en su año de "
        "encuesta y en el año anterior al ingreso",
        "nenhuma empresa respondente é observada nos resultados ao mesmo tempo no seu ano de "
        "pesquisa e no ano anterior à entrada",
    ),
    "claims_no_counterfactual": (
        "no hay efecto estimado sobre {outcome} para las cohortes de ingreso y los años de "
        "encuesta de las empresas que respondieron",
        "não há efeito estimado sobre {outcome} para as coortes de entrada e os anos de "
        "pesquisa das empresas respondentes",
    ),
    "claims_no_effect": (
        "el efecto estimado sobre {outcome} de las empresas que respondieron es nulo o "
        "negativo: no hay razón bruto/neto",
        "o efeito estimado sobre {outcome} das empresas respondentes é nulo ou negativo: "
        "não há razão bruto/líquido",
    ),
    "response_bias_too_few": (
        "{n_respondents} empresas que respondieron y {n_nonrespondents} que no respondieron "
        "se observan en el año anterior al ingreso; cada grupo necesita al menos 2",
        "{n_respondents} empresas respondentes e {n_nonrespondents} não respondentes são "
        "observadas no ano anterior à entrada; cada grupo precisa de pelo menos 2",
    ),
    "sensitivity_too_few_leads": (
        "{leads} años previos al ingreso con estimación antes del año de referencia, menos de "
        "los {min} que necesita el análisis de sensibilidad",
        "{leads} anos anteriores à entrada com estimativa antes do ano de referência, menos que "
        "os {min} de que a análise de sensibilidade precisa",
    ),
    "sensitivity_too_few_lags": (
        "{lags} años posteriores al ingreso con estimación, menos de los {min} que necesita la "
        "cota de magnitudes relativas",
        "{lags} anos posteriores à entrada com estimativa, menos que os {min} de que a cota de "
        "magnitudes relativas precisa",
    ),
    "sensitivity_singular": (
        "la covarianza de las estimaciones del estudio de eventos es singular (la estimación de "
        "un año no tiene varianza muestral)",
        "a covariância das estimativas do estudo de eventos é singular (a estimativa de um ano "
        "não tem variância amostral)",
    ),
    "sensitivity_not_significant": (
        "el efecto promedio de los primeros años tras el ingreso (lo que este análisis acota) "
        "tiene un intervalo del 95% que incluye el cero aun con tendencias exactamente "
        "paralelas: no hay valor de quiebre",
        "o efeito médio dos primeiros anos após a entrada (o que esta análise limita) tem um "
        "intervalo de 95% que inclui o zero mesmo com tendências exatamente paralelas: não há "
        "valor de ruptura",
    ),
    "sensitivity_includes_zero": (
        "el intervalo robusto incluye el cero ya con la menor cota examinada ({m})",
        "o intervalo robusto inclui o zero já com a menor cota examinada ({m})",
    ),
    "imputation_nothing_imputed": (
        "ningún año de una beneficiaria posterior al ingreso puede imputarse: ninguna empresa "
        "se observa sin tratamiento en esos años (estimador de imputación)",
        "nenhum ano de uma beneficiária posterior à entrada pode ser imputado: nenhuma empresa "
        "é observada sem tratamento nesses anos (estimador de imputação)",
    ),
    "imputation_not_connected": (
        "los años-empresa sin el programa no enlazan todos los años, por lo que el estimador "
        "de imputación no puede compararlos",
        "os anos-empresa sem o programa não ligam todos os anos, de modo que o estimador de "
        "imputação não pode compará-los",
    ),
}

LABELS.update(
    {
        f"reason.{code}": (kind.text, *REASON_TEXTS[code])
        for code, kind in REASONS.items()
        if code in REASON_TEXTS  # a code without translations fails tests/test_site_reasons
    }
)
LABELS.update(
    {
        "status.estimated": ("estimated", "estimado", "estimado"),
        "status.not_estimated": ("not estimated", "no estimado", "não estimado"),
        "status.not_estimable": ("not estimable", "no estimable", "não estimável"),
        "status.not_run": ("not run", "no realizada", "não realizado"),
        "status.dropped": ("dropped", "descartada", "descartada"),
        "status_help.not_estimated": (
            "the design lacks what the estimate needs (too few beneficiaries, no comparison firms, no year before entry...): more or other data would make it possible.",
            "al diseño le falta lo que la estimación necesita (muy pocas beneficiarias, ninguna empresa de comparación, ningún año previo al ingreso...): más datos u otros la harían posible.",
            "falta ao desenho o que a estimativa exige (poucas beneficiárias, nenhuma empresa de comparação, nenhum ano anterior à entrada...): mais dados ou outros a tornariam possível.",
        ),
        "status_help.not_estimable": (
            "the data cannot identify it (an outcome that never changes within a firm): a different outcome or design would.",
            "los datos no permiten identificarla (un resultado que nunca cambia dentro de una empresa): otro resultado u otro diseño sí lo harían.",
            "os dados não permitem identificá-la (um resultado que nunca muda dentro de uma empresa): outro resultado ou outro desenho permitiriam.",
        ),
        "status_help.not_run": (
            "a pre-entry (parallel trends) test that could not be run; the effect itself may be fine.",
            "una prueba previa al ingreso (tendencias paralelas) que no pudo realizarse; el efecto en sí puede estar bien.",
            "um teste anterior à entrada (tendências paralelas) que não pôde ser realizado; o efeito em si pode estar correto.",
        ),
        "reason.fewer_than": ("fewer than {k}", "menos de {k}", "menos de {k}"),
        "reason.range": ("{low} to {high}", "{low} a {high}", "{low} a {high}"),
        "reason.unknown": (
            "reason code {code}",
            "código de motivo {code}",
            "código de motivo {code}",
        ),
        # how a reason's {placeholders} read in the methodology page's list
        "placeholder.n": ("n", "n", "n"),
        "placeholder.min": ("minimum", "mínimo", "mínimo"),
        "placeholder.control_group": (
            "comparison group",
            "grupo de comparación",
            "grupo de comparação",
        ),
        "placeholder.column": ("variable", "variable", "variável"),
        "placeholder.outcome": ("outcome", "resultado", "resultado"),
        "placeholder.jobs": ("jobs", "empleos", "empregos"),
        "placeholder.covariates": ("covariates", "covariables", "covariáveis"),
        "placeholder.pre": ("pre-entry years", "años previos", "anos anteriores"),
        "placeholder.post": ("post-entry years", "años posteriores", "anos posteriores"),
        "placeholder.exact": ("characteristics", "características", "características"),
        "placeholder.n_respondents": ("respondents", "empresas que respondieron", "respondentes"),
        "placeholder.n_nonrespondents": (
            "non-respondents",
            "empresas que no respondieron",
            "não respondentes",
        ),
        "placeholder.leads": ("pre-entry years", "años previos", "anos anteriores"),
        "placeholder.lags": ("post-entry years", "años posteriores", "anos posteriores"),
        "placeholder.m": ("bound", "cota", "cota"),
        "placeholder.error": ("error", "error", "erro"),
        # the comparison group inside a reason ("with never-treated comparison")
        "reason_control_group.nevertreated": (
            "never-treated",
            "empresas nunca tratadas",
            "empresas nunca tratadas",
        ),
        "reason_control_group.notyettreated": (
            "not-yet-treated",
            "empresas aún no tratadas",
            "empresas ainda não tratadas",
        ),
        "balance.dropped": (
            "dropped before the propensity score: {why}",
            "descartada antes del puntaje de propensión: {why}",
            "descartada antes do escore de propensão: {why}",
        ),
        "dropped.constant": (
            "constant in the sample",
            "constante en la muestra",
            "constante na amostra",
        ),
        "dropped.collinear": (
            "collinear with the other covariates",
            "colineal con las demás covariables",
            "colinear com as demais covariáveis",
        ),
        "note.not_in_chart": (
            "Not in the chart: {items}.",
            "No aparecen en el gráfico: {items}.",
            "Não aparecem no gráfico: {items}.",
        ),
        "note.matching_effects": (
            "Matched beneficiaries against their matched comparison firms, before and after entry (a check on the main estimates).",
            "Beneficiarias emparejadas frente a sus empresas de comparación emparejadas, antes y después del ingreso (una verificación de las estimaciones principales).",
            "Beneficiárias pareadas frente às suas empresas de comparação pareadas, antes e depois da entrada (uma verificação das estimativas principais).",
        ),
        "method.reasons": (
            "Figures not estimated, and why",
            "Cifras no estimadas, y por qué",
            "Números não estimados, e por quê",
        ),
        "method.reasons_text": (
            "An edition publishes what it can. Where an effect, a return figure, a group or a pre-entry test could not be computed, its place shows a status and a reason instead of a number. A not-estimated figure is not a suppressed one: suppression (x) hides a figure that was computed, to protect firms; a reason says why there is no figure. The statuses:",
            "Una edición publica lo que puede. Donde un efecto, una cifra de retorno, un grupo o una prueba previa al ingreso no pudo calcularse, su lugar muestra un estado y un motivo en vez de un número. Una cifra no estimada no es una cifra suprimida: la supresión (x) oculta una cifra calculada, para proteger a las empresas; un motivo explica por qué no hay cifra. Los estados:",
            "Uma edição publica o que pode. Onde um efeito, um número de retorno, um grupo ou um teste anterior à entrada não pôde ser calculado, seu lugar mostra uma situação e um motivo em vez de um número. Um número não estimado não é um número suprimido: a supressão (x) oculta um número calculado, para proteger as empresas; um motivo explica por que não há número. As situações:",
        ),
        "method.reasons_list": (
            'Every reason, as pages show it; words in angle brackets stand for each case\'s numbers and names. In public editions a number of firms under {k} is shown as "fewer than {k}".',
            'Todos los motivos, tal como aparecen en las páginas; las palabras entre ángulos representan los números y nombres de cada caso. En las ediciones públicas, un número de empresas menor que {k} se muestra como "menos de {k}".',
            'Todos os motivos, como aparecem nas páginas; as palavras entre ângulos representam os números e nomes de cada caso. Nas edições públicas, um número de empresas menor que {k} aparece como "menos de {k}".',
        ),
    }
)

# --- the scale of a return figure (evaluation.roi.SCALE_CHOICES) --------------------------
# Spanish and Portuguese texts of every reason a figure is shown on its scale; the English
# text is evaluation.roi's own. A code without them fails tests/test_site_roi.py.
SCALE_CHOICE_TEXTS: dict[str, tuple[str, str]] = {
    "log_passes": (
        "la prueba previa al ingreso en la escala logarítmica se supera (tendencias paralelas "
        "en las tasas de crecimiento)",
        "o teste anterior à entrada na escala logarítmica é aprovado (tendências paralelas "
        "nas taxas de crescimento)",
    ),
    "level_passes": (
        "la prueba previa al ingreso en la escala logarítmica falla claramente (p < 0,01) y "
        "la de la escala de niveles se supera",
        "o teste anterior à entrada na escala logarítmica falha claramente (p < 0,01) e o da "
        "escala de níveis é aprovado",
    ),
    "log_not_tested": (
        "la prueba previa al ingreso no pudo realizarse en la escala logarítmica (la de "
        "niveles se supera): la escala logarítmica, el diseño de referencia, por defecto",
        "o teste anterior à entrada não pôde ser realizado na escala logarítmica (o de níveis "
        "é aprovado): a escala logarítmica, o desenho de referência, por padrão",
    ),
    "log_fails_narrowly": (
        "la prueba previa al ingreso en la escala logarítmica falla, pero por poco (p ≥ 0,01, "
        "como falla por azar una prueba de cada veinte): se mantiene la escala logarítmica; "
        "lea la cifra con cautela",
        "o teste anterior à entrada na escala logarítmica falha, mas por pouco (p ≥ 0,01, como "
        "falha por acaso um teste em cada vinte): mantém-se a escala logarítmica; leia o "
        "número com cautela",
    ),
    "neither_passes": (
        "ninguna de las dos escalas supera su prueba previa al ingreso: lea la cifra con cautela",
        "nenhuma das duas escalas é aprovada no seu teste anterior à entrada: leia o número "
        "com cautela",
    ),
    "not_tested": (
        "ninguna prueba previa al ingreso se supera y al menos una no pudo realizarse: la "
        "escala logarítmica, por defecto",
        "nenhum teste anterior à entrada é aprovado e pelo menos um não pôde ser realizado: a "
        "escala logarítmica, por padrão",
    ),
    "only_log": (
        "solo pudo estimarse la cifra en la escala logarítmica",
        "só foi possível estimar o número na escala logarítmica",
    ),
    "only_level": (
        "solo pudo estimarse la cifra en la escala de niveles",
        "só foi possível estimar o número na escala de níveis",
    ),
}

LABELS.update(
    {
        f"scale_choice.{code}": (text, *SCALE_CHOICE_TEXTS[code])
        for code, text in SCALE_CHOICES.items()
        if code in SCALE_CHOICE_TEXTS  # a code without translations fails test_site_roi
    }
)
LABELS.update(
    {
        "scale.log": ("log scale", "escala logarítmica", "escala logarítmica"),
        "scale.level": ("level scale", "escala de niveles", "escala de níveis"),
        "scale.caution": ("read with caution", "leer con cautela", "ler com cautela"),
        "pretrend.passes": ("passes (p {p})", "superada (p {p})", "aprovado (p {p})"),
        "pretrend.fails": ("fails (p {p})", "no superada (p {p})", "reprovado (p {p})"),
        "pretrend.passes_no_p": ("passes", "superada", "aprovado"),
        "pretrend.fails_no_p": ("fails", "no superada", "reprovado"),
        "col.scale": ("Scale", "Escala", "Escala"),
        "col.scale_choice": ("Why this scale", "Por qué esta escala", "Por que esta escala"),
        "col.roi_pretrend": (
            "Pre-entry test on this scale",
            "Prueba previa al ingreso en esta escala",
            "Teste anterior à entrada nesta escala",
        ),
        "col.other_estimate": (
            "Other scale (not published)",
            "Otra escala (no publicada)",
            "Outra escala (não publicada)",
        ),
        "col.other_pretrend": (
            "Other scale's pre-entry test",
            "Prueba previa al ingreso de la otra escala",
            "Teste anterior à entrada da outra escala",
        ),
        "col.benchmark_kind": ("Gross or modelled", "Bruta o modelada", "Bruta ou modelada"),
        "bench_kind.gross": (
            "gross: client self-reports",
            "bruta: autodeclaraciones de clientes",
            "bruta: autodeclarações de clientes",
        ),
        "bench_kind.modelled": ("modelled", "modelada", "modelada"),
        "fig.unbounded": ("unbounded", "sin límite superior", "sem limite superior"),
        "fig.benchmark": (
            "{program} ({country}), benchmark<br>({kind})",
            "{program} ({country}), referencia<br>({kind})",
            "{program} ({country}), referência<br>({kind})",
        ),
        "note.roi_neither": (
            "Neither scale's pre-entry test passes for {items}: read these figures with caution.",
            "Ninguna de las dos escalas supera su prueba previa al ingreso para {items}: lea estas cifras con cautela.",
            "Nenhuma das duas escalas é aprovada no seu teste anterior à entrada para {items}: leia estes números com cautela.",
        ),
        "note.roi_scales": (
            "Each counterfactual figure is on the scale named beside it: the log scale assumes that without the program beneficiaries would have grown at the rate of comparison firms, the level scale that they would have changed by the same amount; each scale has its own pre-entry test. ∞: unbounded, the interval of jobs includes zero, so the public cost per job has no upper end.",
            "Cada cifra contrafactual está en la escala indicada a su lado: la escala logarítmica supone que sin el programa las beneficiarias habrían crecido al ritmo de las empresas de comparación; la de niveles, que habrían cambiado en la misma cantidad; cada escala tiene su propia prueba previa al ingreso. ∞: sin límite superior, el intervalo de empleos incluye el cero, de modo que el costo público por empleo no tiene cota superior.",
            "Cada número contrafactual está na escala indicada ao lado: a escala logarítmica supõe que sem o programa as beneficiárias teriam crescido ao ritmo das empresas de comparação; a de níveis, que teriam mudado na mesma quantidade; cada escala tem seu próprio teste anterior à entrada. ∞: sem limite superior, o intervalo de empregos inclui o zero, de modo que o custo público por emprego não tem limite superior.",
        ),
        "note.roi_other": (
            "Internal edition: each counterfactual figure also on the other scale, for comparison. Public editions publish only the figure on the chosen scale.",
            "Edición interna: cada cifra contrafactual también en la otra escala, para comparar. Las ediciones públicas publican solo la cifra en la escala elegida.",
            "Edição interna: cada número contrafactual também na outra escala, para comparação. As edições públicas publicam só o número na escala escolhida.",
        ),
        "note.benchmarks": (
            "Gross: what clients report in surveys, with no comparison group, like this page's self-reported figures. Modelled: estimated by the source from surveys, trends, regressions or cost-benefit models, with its own adjustments.",
            "Bruta: lo que los clientes declaran en encuestas, sin grupo de comparación, como las cifras autodeclaradas de esta página. Modelada: estimada por la fuente a partir de encuestas, tendencias, regresiones o modelos de costo-beneficio, con sus propios ajustes.",
            "Bruta: o que os clientes declaram em pesquisas, sem grupo de comparação, como os números autodeclarados desta página. Modelada: estimada pela fonte a partir de pesquisas, tendências, regressões ou modelos de custo-benefício, com seus próprios ajustes.",
        ),
        "method.roi_scales": (
            "Each counterfactual figure is computed on two scales. On the log scale, the effects on log value added, sales and employment are applied to the beneficiaries' observed levels (the part of what they produced, sold or employed that they would not have without the program); it assumes parallel trends in logs: without the program, beneficiaries would have grown at the same rate as comparison firms. On the level scale, the effects on the levels themselves are summed; it assumes parallel trends in levels: without the program, beneficiaries would have changed by the same amount as comparison firms, which fails when beneficiaries are larger, since larger firms gain more in amount at the same growth rate. Each scale has its own pre-entry test, on its own outcomes.",
            "Cada cifra contrafactual se calcula en dos escalas. En la escala logarítmica, los efectos sobre el logaritmo del valor agregado, las ventas y el empleo se aplican a los niveles observados de las beneficiarias (la parte de lo que produjeron, vendieron o emplearon que no tendrían sin el programa); supone tendencias paralelas en logaritmos: sin el programa, las beneficiarias habrían crecido a la misma tasa que las empresas de comparación. En la escala de niveles, se suman los efectos sobre los niveles mismos; supone tendencias paralelas en niveles: sin el programa, las beneficiarias habrían cambiado en la misma cantidad que las empresas de comparación, lo que falla cuando las beneficiarias son más grandes, ya que a igual tasa de crecimiento una empresa más grande gana más en cantidad. Cada escala tiene su propia prueba previa al ingreso, sobre sus propios resultados.",
            "Cada número contrafactual é calculado em duas escalas. Na escala logarítmica, os efeitos sobre o logaritmo do valor adicionado, das vendas e do emprego são aplicados aos níveis observados das beneficiárias (a parte do que produziram, venderam ou empregaram que não teriam sem o programa); supõe tendências paralelas em logaritmos: sem o programa, as beneficiárias teriam crescido à mesma taxa que as empresas de comparação. Na escala de níveis, somam-se os efeitos sobre os próprios níveis; supõe tendências paralelas em níveis: sem o programa, as beneficiárias teriam mudado na mesma quantidade que as empresas de comparação, o que falha quando as beneficiárias são maiores, já que à mesma taxa de crescimento uma empresa maior ganha mais em quantidade. Cada escala tem seu próprio teste anterior à entrada, sobre seus próprios resultados.",
        ),
        "method.roi_choice": (
            "Which scale is shown: the log scale is the design of record, since firms of different sizes grow at comparable rates while in levels larger beneficiaries drift apart from smaller comparison firms even without a program. It is shown unless its pre-entry test fails clearly (p < 0.01) where the level scale's passes (a narrow failure, which a 5% test has one time in twenty by chance, keeps it, with a warning); when neither passes, the log figure is shown with a warning beside it; when only one scale could be estimated, that one; when no test could be run, the log scale. Every figure names its scale and why:",
            "Qué escala se muestra: la escala logarítmica es el diseño de referencia, ya que empresas de distinto tamaño crecen a tasas comparables, mientras que en niveles las beneficiarias más grandes se alejan de las empresas de comparación más pequeñas aun sin programa. Se muestra salvo que su prueba previa al ingreso falle claramente (p < 0,01) donde la de la escala de niveles se supera (una falla por poco, que una prueba al 5% tiene una vez de cada veinte por azar, la mantiene, con una advertencia); cuando ninguna se supera, se muestra la cifra logarítmica con una advertencia a su lado; cuando solo una escala pudo estimarse, esa; cuando no pudo realizarse ninguna prueba, la logarítmica. Cada cifra indica su escala y por qué:",
            "Qual escala é mostrada: a escala logarítmica é o desenho de referência, pois empresas de portes diferentes crescem a taxas comparáveis, enquanto em níveis as beneficiárias maiores se afastam das empresas de comparação menores mesmo sem programa. Ela é mostrada a menos que seu teste anterior à entrada seja reprovado claramente (p < 0,01) onde o da escala de níveis é aprovado (uma reprovação por pouco, que um teste a 5% tem uma vez em cada vinte por acaso, a mantém, com um aviso); quando nenhum é aprovado, mostra-se o número logarítmico com um aviso ao lado; quando só uma escala pôde ser estimada, essa; quando nenhum teste pôde ser realizado, a logarítmica. Cada número indica sua escala e por quê:",
        ),
        "method.roi_unbounded": (
            "Cost per job is the public cost divided by the jobs created or retained, so its interval is the inverse of the jobs interval: when the jobs interval includes zero, the cost per job has no upper bound (shown as ∞, unbounded), and when the estimated jobs are zero or fewer the cost per job itself is unbounded.",
            "El costo por empleo es el costo público dividido por los empleos creados o mantenidos, de modo que su intervalo es el inverso del intervalo de empleos: cuando el intervalo de empleos incluye el cero, el costo por empleo no tiene cota superior (se muestra como ∞, sin límite superior), y cuando los empleos estimados son cero o menos, el costo por empleo mismo no tiene límite.",
            "O custo por emprego é o custo público dividido pelos empregos criados ou mantidos, de modo que seu intervalo é o inverso do intervalo de empregos: quando o intervalo de empregos inclui o zero, o custo por emprego não tem limite superior (mostrado como ∞, sem limite superior), e quando os empregos estimados são zero ou menos, o próprio custo por emprego não tem limite.",
        ),
        "method.roi_adjustments": (
            "Displacement ({displacement}%) is the share of beneficiaries' gains taken from other domestic firms: every figure, counterfactual and self-reported, is reduced by it. Deadweight ({deadweight}%) is what clients would have achieved without the program: a counterfactual estimate already nets it out, by comparing with firms that did not take part, so it is deducted from the self-reported figures only.",
            "El desplazamiento ({displacement}%) es la parte de las ganancias de las beneficiarias tomada a otras empresas nacionales: reduce todas las cifras, contrafactuales y autodeclaradas. El peso muerto ({deadweight}%) es lo que los clientes habrían logrado sin el programa: una estimación contrafactual ya lo descuenta, al comparar con empresas que no participaron, por lo que se descuenta solo de las cifras autodeclaradas.",
            "O deslocamento ({displacement}%) é a parte dos ganhos das beneficiárias tomada de outras empresas nacionais: reduz todos os números, contrafactuais e autodeclarados. O peso morto ({deadweight}%) é o que os clientes teriam alcançado sem o programa: uma estimativa contrafactual já o desconta, ao comparar com empresas que não participaram, por isso ele é descontado só dos números autodeclarados.",
        ),
        "method.roi_parallel": (
            "Return per dollar and cost per job: parallel trends in logs (growth rates) for the figures on the log scale, in levels for those on the level scale; each figure's pre-entry test is on its own scale.",
            "Retorno por dólar y costo por empleo: tendencias paralelas en logaritmos (tasas de crecimiento) para las cifras en escala logarítmica, en niveles para las de la escala de niveles; la prueba previa al ingreso de cada cifra se hace en su propia escala.",
            "Retorno por dólar e custo por emprego: tendências paralelas em logaritmos (taxas de crescimento) para os números na escala logarítmica, em níveis para os da escala de níveis; o teste anterior à entrada de cada número é feito na sua própria escala.",
        ),
        "method.roi_benchmarks": (
            "The international benchmarks are marked gross (clients' self-reports, with no comparison group, as the MEP's) or modelled (estimated by their source with surveys, trends, regressions or cost-benefit models), as their sources describe them.",
            "Las referencias internacionales se marcan como brutas (autodeclaraciones de clientes, sin grupo de comparación, como las del MEP) o modeladas (estimadas por su fuente con encuestas, tendencias, regresiones o modelos de costo-beneficio), según las describen sus fuentes.",
            "As referências internacionais são marcadas como brutas (autodeclarações de clientes, sem grupo de comparação, como as do MEP) ou modeladas (estimadas por sua fonte com pesquisas, tendências, regressões ou modelos de custo-benefício), conforme suas fontes as descrevem.",
        ),
    }
)


# --- robustness to violations of parallel trends (evaluation.sensitivity) ---------------------
LABELS.update(
    {
        "program.robustness": ("Robustness", "Robustez", "Robustez"),
        "robust.intro": (
            "How far could the trends of beneficiaries and comparison firms have diverged after entry, for reasons other than the program, before the average effect over years {first} to {last} since entry stopped being significant? Each interval is a 95% confidence set for that effect when post-entry violations of parallel trends may be up to M̄ times the largest change between consecutive pre-entry years (relative magnitudes, Rambachan and Roth 2023); the original interval assumes exactly parallel trends.",
            "¿Cuánto podrían haber divergido, tras el ingreso, las tendencias de las beneficiarias y de las empresas de comparación por causas ajenas al programa antes de que el efecto promedio de los años {first} a {last} desde el ingreso dejara de ser significativo? Cada intervalo es un conjunto de confianza del 95% para ese efecto cuando las violaciones de tendencias paralelas posteriores al ingreso pueden llegar a M̄ veces el mayor cambio entre años consecutivos previos al ingreso (magnitudes relativas, Rambachan y Roth 2023); el intervalo original supone tendencias exactamente paralelas.",
            "Quanto poderiam ter divergido, após a entrada, as tendências das beneficiárias e das empresas de comparação por causas alheias ao programa antes que o efeito médio dos anos {first} a {last} desde a entrada deixasse de ser significativo? Cada intervalo é um conjunto de confiança de 95% para esse efeito quando as violações de tendências paralelas posteriores à entrada podem chegar a M̄ vezes a maior variação entre anos consecutivos anteriores à entrada (magnitudes relativas, Rambachan e Roth 2023); o intervalo original supõe tendências exatamente paralelas.",
        ),
        "robust.breakdown": (
            "The effect on {outcome} stays significant unless post-entry violations of parallel trends exceed {mbar} times the largest pre-entry violation.",
            "El efecto sobre {outcome} sigue siendo significativo salvo que las violaciones de tendencias paralelas posteriores al ingreso superen {mbar} veces la mayor violación previa al ingreso.",
            "O efeito sobre {outcome} continua significativo a menos que as violações de tendências paralelas posteriores à entrada superem {mbar} vezes a maior violação anterior à entrada.",
        ),
        "robust.breakdown_at_least": (
            "The effect on {outcome} stays significant even if post-entry violations of parallel trends reach {mbar} times the largest pre-entry violation, the largest bound examined.",
            "El efecto sobre {outcome} sigue siendo significativo aun si las violaciones de tendencias paralelas posteriores al ingreso llegan a {mbar} veces la mayor violación previa al ingreso, la mayor cota examinada.",
            "O efeito sobre {outcome} continua significativo mesmo que as violações de tendências paralelas posteriores à entrada cheguem a {mbar} vezes a maior violação anterior à entrada, a maior cota examinada.",
        ),
        "robust.no_breakdown": (
            "Robustness of the effect on {outcome}: {reason}.",
            "Robustez del efecto sobre {outcome}: {reason}.",
            "Robustez do efeito sobre {outcome}: {reason}.",
        ),
        "robust.suppressed": (
            "The robustness of the effect on {outcome} is not shown: the effect itself is suppressed.",
            "La robustez del efecto sobre {outcome} no se muestra: el efecto mismo está suprimido.",
            "A robustez do efeito sobre {outcome} não é mostrada: o próprio efeito está suprimido.",
        ),
        "fig.sensitivity": (
            "Robustness of the effect on {outcome}",
            "Robustez del efecto sobre {outcome}",
            "Robustez do efeito sobre {outcome}",
        ),
        "fig.sensitivity_original": ("Original", "Original", "Original"),
        "fig.sensitivity_robust": (
            "Robust 95% interval",
            "Intervalo robusto del 95%",
            "Intervalo robusto de 95%",
        ),
        "fig.mbar": ("M̄ (relative magnitude)", "M̄ (magnitud relativa)", "M̄ (magnitude relativa)"),
        "method.breakdown": (
            "Robustness to violations of parallel trends. Every effect rests on the assumption that, without the program, beneficiaries' outcomes would have moved in parallel with the comparison firms'. The years before entry show how far the two groups' trends drifted apart then. Following Rambachan and Roth (2023), each program page asks how much larger the drift after entry could be before the effect stopped being significant: the breakdown value M̄. A breakdown value of 1.5 means the effect stays significant as long as, after entry, the year-to-year divergence of trends never exceeds 1.5 times the largest divergence seen before entry; a breakdown value of 0 means that any divergence as large as the pre-entry ones could explain the effect away. The larger the breakdown value, the more robust the effect. The analysis covers the average effect over years 0 to 3 since entry, with the three years before the reference year, on a coarse grid of M̄ (0, 0.5, 1, 1.5 and 2).",
            "Robustez ante violaciones de tendencias paralelas. Todo efecto descansa en el supuesto de que, sin el programa, los resultados de las beneficiarias habrían evolucionado en paralelo con los de las empresas de comparación. Los años previos al ingreso muestran cuánto se separaron entonces las tendencias de ambos grupos. Siguiendo a Rambachan y Roth (2023), cada página de programa pregunta cuánto mayor podría ser la divergencia tras el ingreso antes de que el efecto deje de ser significativo: el valor de quiebre M̄. Un valor de quiebre de 1,5 significa que el efecto sigue siendo significativo mientras, tras el ingreso, la divergencia de tendencias de un año a otro nunca supere 1,5 veces la mayor divergencia observada antes del ingreso; un valor de quiebre de 0 significa que cualquier divergencia tan grande como las previas al ingreso podría explicar el efecto. Cuanto mayor el valor de quiebre, más robusto el efecto. El análisis cubre el efecto promedio de los años 0 a 3 desde el ingreso, con los tres años anteriores al año de referencia, en una grilla gruesa de M̄ (0; 0,5; 1; 1,5 y 2).",
            "Robustez a violações de tendências paralelas. Todo efeito se apoia na hipótese de que, sem o programa, os resultados das beneficiárias teriam evoluído em paralelo com os das empresas de comparação. Os anos anteriores à entrada mostram quanto as tendências dos dois grupos se afastaram então. Seguindo Rambachan e Roth (2023), cada página de programa pergunta quanto maior poderia ser a divergência após a entrada antes que o efeito deixasse de ser significativo: o valor de ruptura M̄. Um valor de ruptura de 1,5 significa que o efeito continua significativo enquanto, após a entrada, a divergência de tendências de um ano para outro nunca superar 1,5 vez a maior divergência observada antes da entrada; um valor de ruptura de 0 significa que qualquer divergência tão grande quanto as anteriores à entrada poderia explicar o efeito. Quanto maior o valor de ruptura, mais robusto o efeito. A análise cobre o efeito médio dos anos 0 a 3 desde a entrada, com os três anos anteriores ao ano de referência, em uma grade grossa de M̄ (0; 0,5; 1; 1,5 e 2).",
        ),
    }
)


# --- a second modern estimator and family-wise p-values (evaluation.imputation, .multiple) ---
LABELS.update(
    {
        "col.pvalue_rw": ("p (Romano-Wolf)", "p (Romano-Wolf)", "p (Romano-Wolf)"),
        "note.pvalue_rw": (
            "p (Romano-Wolf): p-value adjusted for testing all the program's outcomes at once (methodology).",
            "p (Romano-Wolf): valor p ajustado por probar a la vez todos los resultados del programa (metodología).",
            "p (Romano-Wolf): valor-p ajustado por testar ao mesmo tempo todos os resultados do programa (metodologia).",
        ),
        "program.estimators_agree": (
            "Do two modern estimators agree?",
            "¿Coinciden dos estimadores modernos?",
            "Dois estimadores modernos concordam?",
        ),
        "col.cs_effect": (
            "Callaway-Sant'Anna (design of record)",
            "Callaway-Sant'Anna (diseño de referencia)",
            "Callaway-Sant'Anna (desenho de referência)",
        ),
        "col.imputation_effect": (
            "Imputation (Borusyak-Jaravel-Spiess)",
            "Imputación (Borusyak-Jaravel-Spiess)",
            "Imputação (Borusyak-Jaravel-Spiess)",
        ),
        "note.estimators_agree": (
            "Overall effect since entry, with its 95% interval, by two estimators on the same firms and years. The imputation estimator also compares beneficiaries with firms not yet in the program; close figures mean the result does not hinge on the estimator. The two-way fixed effects regression is the legacy method, shown for comparison only: with entry spread over years and effects that grow, it mixes in comparisons with firms already in the program and can be biased (Goodman-Bacon 2021).",
            "Efecto global desde el ingreso, con su intervalo del 95%, según dos estimadores sobre las mismas empresas y años. El estimador de imputación compara también con empresas que aún no ingresan al programa; cifras cercanas indican que el resultado no depende del estimador. La regresión de efectos fijos de dos vías es el método heredado, solo como comparación: con ingresos repartidos en varios años y efectos que crecen, mezcla comparaciones con empresas que ya están en el programa y puede estar sesgada (Goodman-Bacon 2021).",
            "Efeito global desde a entrada, com seu intervalo de 95%, segundo dois estimadores sobre as mesmas empresas e anos. O estimador de imputação compara também com empresas que ainda não entraram no programa; números próximos indicam que o resultado não depende do estimador. A regressão de efeitos fixos de duas vias é o método legado, apenas para comparação: com entradas distribuídas em vários anos e efeitos que crescem, mistura comparações com empresas que já estão no programa e pode ser viesada (Goodman-Bacon 2021).",
        ),
        "method.imputation": (
            "A second modern estimator checks each overall effect: the imputation estimator (Borusyak, Jaravel and Spiess 2024) learns each firm's usual level and each year's common shock from the firm-years without the program, predicts what every beneficiary would have done without it, and averages the gaps between what it did and that prediction. It rests on the same parallel trends assumption but weighs the years differently, so when both estimators give similar effects the result does not depend on how the comparison is built.",
            "Un segundo estimador moderno verifica cada efecto global: el estimador de imputación (Borusyak, Jaravel y Spiess 2024) aprende el nivel habitual de cada empresa y el shock común de cada año a partir de los años-empresa sin el programa, predice lo que cada beneficiaria habría hecho sin él y promedia las diferencias entre lo que hizo y esa predicción. Descansa en el mismo supuesto de tendencias paralelas pero pondera los años de otro modo, de modo que cuando ambos estimadores dan efectos parecidos el resultado no depende de cómo se construye la comparación.",
            "Um segundo estimador moderno verifica cada efeito global: o estimador de imputação (Borusyak, Jaravel e Spiess 2024) aprende o nível habitual de cada empresa e o choque comum de cada ano a partir dos anos-empresa sem o programa, prevê o que cada beneficiária teria feito sem ele e faz a média das diferenças entre o que ela fez e essa previsão. Apoia-se na mesma hipótese de tendências paralelas mas pondera os anos de outra forma, de modo que quando os dois estimadores dão efeitos parecidos o resultado não depende de como a comparação é construída.",
        ),
        "method.romano_wolf": (
            "Beside the q-value, each overall effect has a Romano-Wolf adjusted p-value (Romano and Wolf 2005, 2016), computed from the same bootstrap draws for all the program's outcomes so that it accounts for how they move together. Calling real every effect with an adjusted p ≤ 0.05, the chance that even one of them is a false positive is at most 5%: a stricter guarantee than the q-value's.",
            "Junto al valor q, cada efecto global tiene un valor p ajustado de Romano-Wolf (Romano y Wolf 2005, 2016), calculado con las mismas réplicas bootstrap para todos los resultados del programa, de modo que tiene en cuenta cómo se mueven juntos. Si se da por real cada efecto con p ajustado ≤ 0,05, la probabilidad de que siquiera uno sea un falso positivo es a lo sumo del 5%: una garantía más estricta que la del valor q.",
            "Ao lado do valor-q, cada efeito global tem um valor-p ajustado de Romano-Wolf (Romano e Wolf 2005, 2016), calculado com as mesmas réplicas bootstrap para todos os resultados do programa, de modo que leva em conta como eles se movem juntos. Tomando como real cada efeito com p ajustado ≤ 0,05, a probabilidade de que sequer um seja um falso positivo é no máximo 5%: uma garantia mais estrita que a do valor-q.",
        ),
    }
)


# --- claims against records (client survey; evaluation.claims) -------------------------------
LABELS.update(
    {
        "program.claims": (
            "Claims against records",
            "Lo declarado frente a los registros",
            "O declarado frente aos registros",
        ),
        "program.claims_response": (
            "Who answered the client survey",
            "Quiénes respondieron la encuesta a clientes",
            "Quem respondeu à pesquisa com clientes",
        ),
        "program.claim_firms": (
            "Firm by firm (internal edition only)",
            "Empresa por empresa (solo en la edición interna)",
            "Empresa por empresa (somente na edição interna)",
        ),
        "note.claims_lede": (
            "What clients say the program did for them in the client survey (sales won or kept, jobs created or kept), beside what their own records show and what the evaluation estimates the program did for them.",
            "Lo que los clientes dicen en la encuesta que el programa hizo por ellos (ventas ganadas o mantenidas, empleos creados o mantenidos), junto a lo que muestran sus propios registros y lo que la evaluación estima que el programa hizo por ellos.",
            "O que os clientes dizem na pesquisa que o programa fez por eles (vendas ganhas ou mantidas, empregos criados ou mantidos), ao lado do que mostram seus próprios registros e do que a avaliação estima que o programa fez por eles.",
        ),
        "note.claims": (
            "A claim is above the recorded change when it is positive and larger than the change in the firm's own sales or employment from the year before entry to the survey year. The estimated effect applies the program's effect for the firm's entry cohort and survey year (on log sales or log employment) to the firm's own level that year. The gross-to-net ratio is the total claimed over the total estimated effect of the same firms: above 1, clients claim more than the program made; its 95% interval reflects the uncertainty of the estimated effect (the claims are taken as stated), and ∞ means the effect may be nil. The share's interval is that of a share of answers.",
            "Una declaración está por encima del cambio registrado cuando es positiva y mayor que el cambio de las ventas o el empleo de la propia empresa entre el año previo al ingreso y el año de la encuesta. El efecto estimado aplica el efecto del programa para la cohorte de ingreso y el año de encuesta de la empresa (en el logaritmo de las ventas o del empleo) a su propio nivel de ese año. La razón bruto/neto es el total declarado sobre el efecto estimado total de las mismas empresas: por encima de 1, los clientes declaran más de lo que el programa logró; su intervalo del 95% refleja la incertidumbre del efecto estimado (lo declarado se toma tal como se dijo) y ∞ significa que el efecto puede ser nulo. El intervalo de la proporción es el de una proporción de respuestas.",
            "Uma declaração está acima da variação registrada quando é positiva e maior que a variação das vendas ou do emprego da própria empresa entre o ano anterior à entrada e o ano da pesquisa. O efeito estimado aplica o efeito do programa para a coorte de entrada e o ano de pesquisa da empresa (no logaritmo das vendas ou do emprego) ao seu próprio nível naquele ano. A razão bruto/líquido é o total declarado sobre o efeito estimado total das mesmas empresas: acima de 1, os clientes declaram mais do que o programa gerou; seu intervalo de 95% reflete a incerteza do efeito estimado (o declarado é tomado como foi dito) e ∞ significa que o efeito pode ser nulo. O intervalo da proporção é o de uma proporção de respostas.",
        ),
        "note.claims_response": (
            "Response rate: beneficiaries who answered the survey over all beneficiaries. Response bias: respondents and non-respondents compared on the log of the outcome in the year before entry (difference of means over the square root of their mean variance, and Welch's t-test). A large standardized difference (beyond ±0.1) with a small p-value means those who answered are not like the other beneficiaries, and the claims may not speak for them.",
            "Tasa de respuesta: beneficiarias que respondieron la encuesta sobre el total de beneficiarias. Sesgo de respuesta: las empresas que respondieron y las que no, comparadas en el logaritmo del resultado en el año previo al ingreso (diferencia de medias sobre la raíz de su varianza media, y prueba t de Welch). Una diferencia estandarizada grande (más allá de ±0,1) con un valor p pequeño significa que quienes respondieron no se parecen a las demás beneficiarias, y lo declarado puede no representarlas.",
            "Taxa de resposta: beneficiárias que responderam à pesquisa sobre o total de beneficiárias. Viés de resposta: empresas respondentes e não respondentes comparadas no logaritmo do resultado no ano anterior à entrada (diferença de médias sobre a raiz da sua variância média, e teste t de Welch). Uma diferença padronizada grande (além de ±0,1) com valor-p pequeno significa que quem respondeu não se parece com as demais beneficiárias, e o declarado pode não representá-las.",
        ),
        "note.claim_firms": (
            "Firm-level figures of identifiable size: internal editions only, never published. Firms appear by their pseudonym.",
            "Cifras de empresas individuales de tamaño identificable: solo en ediciones internas, nunca se publican. Las empresas aparecen con su seudónimo.",
            "Números de empresas individuais de tamanho identificável: somente em edições internas, nunca publicados. As empresas aparecem pelo seu pseudônimo.",
        ),
        "quality.survey_response": (
            "Client survey: response and response bias",
            "Encuesta a clientes: respuesta y sesgo de respuesta",
            "Pesquisa com clientes: resposta e viés de resposta",
        ),
        "quality.survey_response_note": (
            "Per program: how many beneficiaries answered the client survey, and whether those who answered differ from the others before entry (log sales and log employment in the year before entry). Self-reported figures rest on the respondents only.",
            "Por programa: cuántas beneficiarias respondieron la encuesta a clientes y si quienes respondieron difieren de las demás antes del ingreso (logaritmo de las ventas y del empleo en el año previo al ingreso). Las cifras autodeclaradas se basan solo en quienes respondieron.",
            "Por programa: quantas beneficiárias responderam à pesquisa com clientes e se quem respondeu difere das demais antes da entrada (logaritmo das vendas e do emprego no ano anterior à entrada). Os números autodeclarados se baseiam somente nos respondentes.",
        ),
        "method.claims": (
            "Claims against records: each surveyed firm's claimed sales (new and retained) and jobs (created and retained) are set beside the change in its own records from the year before entry to the survey year, and beside the program's estimated effect for its entry cohort and survey year applied to its own level. Per program, the share of claims above the recorded change (Wilson 95% interval), the gross-to-net ratio (claims over estimated effects of the same firms; its 95% interval inverts the interval of the estimated effects, by the delta method, taking the effects of one entry cohort as perfectly correlated), the response rate and the response bias on pre-entry outcomes.",
            "Lo declarado frente a los registros: las ventas (nuevas y mantenidas) y los empleos (creados y mantenidos) que declara cada empresa encuestada se comparan con el cambio en sus propios registros entre el año previo al ingreso y el año de la encuesta, y con el efecto estimado del programa para su cohorte de ingreso y año de encuesta aplicado a su propio nivel. Por programa: la proporción de declaraciones por encima del cambio registrado (intervalo de Wilson del 95%), la razón bruto/neto (lo declarado sobre los efectos estimados de las mismas empresas; su intervalo del 95% invierte el de los efectos estimados, por el método delta, tomando como perfectamente correlacionados los efectos de una misma cohorte de ingreso), la tasa de respuesta y el sesgo de respuesta en los resultados previos al ingreso.",
            "O declarado frente aos registros: as vendas (novas e mantidas) e os empregos (criados e mantidos) que cada empresa pesquisada declara são comparados com a variação nos seus próprios registros entre o ano anterior à entrada e o ano da pesquisa, e com o efeito estimado do programa para sua coorte de entrada e ano de pesquisa aplicado ao seu próprio nível. Por programa: a proporção de declarações acima da variação registrada (intervalo de Wilson de 95%), a razão bruto/líquido (o declarado sobre os efeitos estimados das mesmas empresas; seu intervalo de 95% inverte o dos efeitos estimados, pelo método delta, tomando como perfeitamente correlacionados os efeitos de uma mesma coorte de entrada), a taxa de resposta e o viés de resposta nos resultados anteriores à entrada.",
        ),
        "table.claims": (
            "Claims against records",
            "Lo declarado frente a los registros",
            "O declarado frente aos registros",
        ),
        "table.claim_firms": (
            "Claims against records, firm by firm (internal)",
            "Lo declarado frente a los registros, empresa por empresa (interna)",
            "O declarado frente aos registros, empresa por empresa (interna)",
        ),
        "measure.sales": (
            "Sales won or kept (USD)",
            "Ventas ganadas o mantenidas (USD)",
            "Vendas ganhas ou mantidas (USD)",
        ),
        "measure.jobs": (
            "Jobs created or kept",
            "Empleos creados o mantenidos",
            "Empregos criados ou mantidos",
        ),
        "col.compared": ("Answers compared", "Respuestas comparadas", "Respostas comparadas"),
        "col.share_above": (
            "Claims above the recorded change [95% CI]",
            "Declaraciones por encima del cambio registrado [IC 95%]",
            "Declarações acima da variação registrada [IC 95%]",
        ),
        "col.claimed_total": ("Claimed, total", "Declarado, total", "Declarado, total"),
        "col.counterfactual_total": (
            "Estimated effect, total",
            "Efecto estimado, total",
            "Efeito estimado, total",
        ),
        "col.gross_to_net": (
            "Gross-to-net ratio [95% CI]",
            "Razón bruto/neto [IC 95%]",
            "Razão bruto/líquido [IC 95%]",
        ),
        "col.respondents": ("Respondents", "Respondieron", "Respondentes"),
        "col.beneficiaries_all": ("Beneficiaries", "Beneficiarias", "Beneficiárias"),
        "col.response_rate": ("Response rate", "Tasa de respuesta", "Taxa de resposta"),
        "col.bias_outcome": (
            "Compared on (year before entry)",
            "Comparadas en (año previo al ingreso)",
            "Comparadas em (ano anterior à entrada)",
        ),
        "col.mean_respondents": (
            "Mean of the log, respondents",
            "Media del logaritmo, respondieron",
            "Média do logaritmo, respondentes",
        ),
        "col.mean_nonrespondents": (
            "Mean of the log, non-respondents",
            "Media del logaritmo, no respondieron",
            "Média do logaritmo, não respondentes",
        ),
        "col.bias_difference": ("Difference", "Diferencia", "Diferença"),
        "col.bias_std_difference": (
            "Standardized difference",
            "Diferencia estandarizada",
            "Diferença padronizada",
        ),
        "col.bias_pvalue": ("p-value (t-test)", "valor p (prueba t)", "valor-p (teste t)"),
        "col.firm_id": ("Firm (pseudonym)", "Empresa (seudónimo)", "Empresa (pseudônimo)"),
        "col.cohort": ("Entry year", "Año de ingreso", "Ano de entrada"),
        "col.survey_year": ("Survey year", "Año de la encuesta", "Ano da pesquisa"),
        "col.measure": ("Claimed", "Declarado", "Declarado"),
        "col.sales_claimed": (
            "Sales claimed (USD)",
            "Ventas declaradas (USD)",
            "Vendas declaradas (USD)",
        ),
        "col.sales_recorded_change": (
            "Recorded change in sales (USD)",
            "Cambio registrado en las ventas (USD)",
            "Variação registrada nas vendas (USD)",
        ),
        "col.sales_counterfactual": (
            "Estimated effect on sales (USD)",
            "Efecto estimado en las ventas (USD)",
            "Efeito estimado nas vendas (USD)",
        ),
        "col.sales_above_recorded": (
            "Sales claim above records",
            "Ventas declaradas por encima de lo registrado",
            "Vendas declaradas acima do registrado",
        ),
        "col.jobs_claimed": ("Jobs claimed", "Empleos declarados", "Empregos declarados"),
        "col.jobs_recorded_change": (
            "Recorded change in jobs",
            "Cambio registrado en el empleo",
            "Variação registrada no emprego",
        ),
        "col.jobs_counterfactual": (
            "Estimated effect on jobs",
            "Efecto estimado en el empleo",
            "Efeito estimado no emprego",
        ),
        "col.jobs_above_recorded": (
            "Jobs claim above records",
            "Empleos declarados por encima de lo registrado",
            "Empregos declarados acima do registrado",
        ),
    }
)

# the outlier page (internal editions) and its link from the data-quality page
LABELS.update(
    {
        "outliers.title": (
            "Outliers to review",
            "Valores atípicos por revisar",
            "Valores atípicos a revisar",
        ),
        "outliers.lede": (
            "Firm-years whose figures are far from their peers', kept in the data and flagged for a person to check, with where that follow-up stands.",
            "Años-empresa cuyas cifras se alejan mucho de las de sus pares, conservados en los datos y señalados para que una persona los revise, con el estado de esa revisión.",
            "Anos-empresa cujos números se afastam muito dos de seus pares, mantidos nos dados e sinalizados para que uma pessoa os verifique, com a situação dessa revisão.",
        ),
        "outliers.status_summary": ("{n} flags.", "{n} señales.", "{n} sinalizações."),
        "outliers.follow_up": (
            "Status comes from the corrections file's outliers section (the latest entry per firm, year and outcome); a flag nobody has reviewed yet is open.",
            "El estado viene de la sección outliers del archivo de correcciones (la última entrada por empresa, año y resultado); una señal que nadie ha revisado aún está abierta.",
            "A situação vem da seção outliers do arquivo de correções (a última entrada por empresa, ano e resultado); uma sinalização que ninguém revisou ainda está aberta.",
        ),
        "outliers.none": (
            "No outlier is flagged.",
            "No hay valores atípicos señalados.",
            "Nenhum valor atípico sinalizado.",
        ),
        "outliers.back": (
            "Back to data quality",
            "Volver a la calidad de los datos",
            "Voltar à qualidade dos dados",
        ),
        "outliers.link_note": (
            "Figures kept but flagged as outliers, firm by firm, ranked by severity (internal edition only).",
            "Cifras conservadas pero señaladas como atípicas, empresa por empresa, ordenadas por gravedad (solo en la edición interna).",
            "Números mantidos mas sinalizados como atípicos, empresa por empresa, ordenados por gravidade (somente na edição interna).",
        ),
        "outliers.link": (
            "Outliers to review",
            "Valores atípicos por revisar",
            "Valores atípicos a revisar",
        ),
        "outliers.note_growth": (
            "Year-on-year growth far from that of firms of the same sector and size class that year: severity is the robust z-score (distance from the median in robust standard deviations), flagged above the run's outlier_z setting.",
            "Crecimiento interanual muy distinto del de las empresas del mismo sector y tamaño ese año: la gravedad es el puntaje z robusto (distancia a la mediana en desviaciones estándar robustas), señalado por encima del parámetro outlier_z de la ejecución.",
            "Crescimento anual muito diferente do das empresas do mesmo setor e porte naquele ano: a gravidade é o escore z robusto (distância da mediana em desvios-padrão robustos), sinalizado acima do parâmetro outlier_z da execução.",
        ),
        "outliers.note_wage_per_worker_level": (
            "Wage bill per employee more than 20 times above or below the median of the firm's country and year, in a firm that is at that level in its other years too (a single such year is quarantined instead): severity is how many times away from the median.",
            "Masa salarial por empleado más de 20 veces por encima o por debajo de la mediana del país y año de la empresa, en una empresa que está en ese nivel también en sus otros años (un solo año así va a cuarentena): la gravedad es cuántas veces se aleja de la mediana.",
            "Folha salarial por empregado mais de 20 vezes acima ou abaixo da mediana do país e ano da empresa, numa empresa que está nesse nível também nos outros anos (um único ano assim vai para a quarentena): a gravidade é quantas vezes se afasta da mediana.",
        ),
        "outliers.col_firm": ("Firm (pseudonym)", "Empresa (seudónimo)", "Empresa (pseudônimo)"),
        "outliers.col_outcome": ("Outcome", "Resultado", "Resultado"),
        "outliers.col_severity": ("Severity", "Gravedad", "Gravidade"),
        "outliers.col_status": ("Follow-up", "Seguimiento", "Acompanhamento"),
        "outliers.col_decided_by": ("Reviewed by", "Revisado por", "Revisado por"),
        "outliers.col_reason": ("Note", "Nota", "Nota"),
        "outlier_rule.growth": (
            "Growth far from peers",
            "Crecimiento lejos de los pares",
            "Crescimento longe dos pares",
        ),
        "outlier_rule.wage_per_worker_level": (
            "Wage per worker far from peers, consistently",
            "Salario por trabajador lejos de los pares, de forma constante",
            "Salário por trabalhador longe dos pares, de forma constante",
        ),
        "review.open": ("open", "abierta", "aberta"),
        "review.checked": ("checked", "revisada", "verificada"),
        "review.confirmed": ("confirmed", "confirmada", "confirmada"),
        "review.corrected": ("corrected", "corregida", "corrigida"),
    }
)

# plotly.js's own words on the chart toolbar (the buttons the pages keep) and notices
PLOTLY_LOCALES: dict[str, dict[str, str]] = {
    "es": {
        "Download plot as a PNG": "Descargar el gráfico como PNG",
        "Download plot": "Descargar el gráfico",
        "Zoom": "Ampliar una zona",
        "Pan": "Desplazar",
        "Reset axes": "Restablecer los ejes",
        "Autoscale": "Escala automática",
        "Double-click to zoom back out": "Doble clic para volver a la vista inicial",
    },
    "pt": {
        "Download plot as a PNG": "Baixar o gráfico como PNG",
        "Download plot": "Baixar o gráfico",
        "Zoom": "Ampliar uma área",
        "Pan": "Deslocar",
        "Reset axes": "Restaurar os eixos",
        "Autoscale": "Escala automática",
        "Double-click to zoom back out": "Clique duas vezes para voltar à vista inicial",
    },
}


def _fmt(x: float, decimals: int, lang: Lang) -> str:
    text = f"{x:,.{decimals}f}"
    if lang == "en":
        return text
    # Spanish and Portuguese: decimal comma, thousands point
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


class Translator:
    """The labels and number formats of one language."""

    def __init__(self, lang: Lang, codes: Mapping[str, str] | None = None) -> None:
        """codes: labels of data codes that have none here, keyed `<domain>.<code>` (the
        agency's own outcome labels, say): used after this module's labels, before the
        bare code."""
        if lang not in _INDEX:
            raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGS)}")
        self.lang: Lang = lang
        self._i = _INDEX[lang]
        self.codes: dict[str, str] = dict(codes or {})

    def __call__(self, key: str, **values: object) -> str:
        """The text of `key`, with {placeholders} filled in; a missing key is an error."""
        text = LABELS[key][self._i]
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        """Whether `key` has a label."""
        return key in LABELS

    def code(self, domain: str, value: object) -> str:
        """A data code of `domain` in words (the code itself when there is no label)."""
        text = str(value)
        if text in ("total", "unknown"):
            return self(f"value.{text}")
        key = f"{domain}.{text}"
        if key in LABELS:
            return self(key)
        return self.codes.get(key, text)

    @property
    def separators(self) -> str:
        """plotly's `separators` (decimal, then thousands) for this language."""
        return ".," if self.lang == "en" else ",."

    def num(self, x: object, decimals: int = 0) -> str:
        """A number as this language writes it; missing values as a dash."""
        try:
            v = float(x)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return self("sym.missing")
        if math.isnan(v):
            return self("sym.missing")
        if math.isinf(v):
            return self("sym.unbounded")
        return _fmt(v, decimals, self.lang)

    def signed(self, x: object, decimals: int = 1) -> str:
        """A number with its sign (effects)."""
        text = self.num(x, decimals)
        if not text[-1].isdigit() or not text.strip("-0.,"):
            return text.lstrip("-")  # missing, unbounded, or zero at this precision
        return text.replace("-", "−") if text.startswith("-") else "+" + text


def english_labels() -> set[str]:
    """Every English label that differs from its Spanish one (to test Spanish pages)."""
    return {en for en, es, _ in LABELS.values() if en != es}
