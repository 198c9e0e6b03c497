"""Realistic value pools built once with Faker (names, streets, companies) and Lima geography.

Faker is slow row by row (~20k rows/s), so it only fills small pools; numpy then draws
millions of indices into them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from faker import Faker

#: Lima districts grouped in zones, with approximate centroids (lat, lon).
LIMA_DISTRICTS: dict[str, tuple[str, float, float]] = {
    "Cercado de Lima": ("Lima Centro", -12.0464, -77.0428),
    "Breña": ("Lima Centro", -12.0597, -77.0500),
    "La Victoria": ("Lima Centro", -12.0730, -77.0167),
    "Rímac": ("Lima Centro", -12.0290, -77.0300),
    "San Luis": ("Lima Centro", -12.0760, -76.9960),
    "Miraflores": ("Lima Moderna", -12.1211, -77.0297),
    "San Isidro": ("Lima Moderna", -12.0977, -77.0365),
    "Barranco": ("Lima Moderna", -12.1490, -77.0210),
    "Surquillo": ("Lima Moderna", -12.1120, -77.0120),
    "San Borja": ("Lima Moderna", -12.1030, -76.9990),
    "Santiago de Surco": ("Lima Moderna", -12.1440, -76.9910),
    "Jesús María": ("Lima Moderna", -12.0770, -77.0490),
    "Lince": ("Lima Moderna", -12.0840, -77.0360),
    "Magdalena del Mar": ("Lima Moderna", -12.0900, -77.0700),
    "Pueblo Libre": ("Lima Moderna", -12.0740, -77.0630),
    "San Miguel": ("Lima Moderna", -12.0770, -77.0910),
    "La Molina": ("Lima Este", -12.0870, -76.9310),
    "Ate": ("Lima Este", -12.0260, -76.9180),
    "Santa Anita": ("Lima Este", -12.0430, -76.9710),
    "San Juan de Lurigancho": ("Lima Este", -11.9790, -77.0040),
    "El Agustino": ("Lima Este", -12.0430, -77.0000),
    "Chaclacayo": ("Lima Este", -11.9780, -76.7690),
    "Los Olivos": ("Lima Norte", -11.9910, -77.0700),
    "Comas": ("Lima Norte", -11.9370, -77.0630),
    "Independencia": ("Lima Norte", -11.9910, -77.0500),
    "San Martín de Porres": ("Lima Norte", -12.0000, -77.0830),
    "Puente Piedra": ("Lima Norte", -11.8670, -77.0760),
    "Carabayllo": ("Lima Norte", -11.8500, -77.0330),
    "Chorrillos": ("Lima Sur", -12.1690, -77.0210),
    "San Juan de Miraflores": ("Lima Sur", -12.1570, -76.9710),
    "Villa El Salvador": ("Lima Sur", -12.2130, -76.9370),
    "Villa María del Triunfo": ("Lima Sur", -12.1610, -76.9420),
    "Lurín": ("Lima Sur", -12.2740, -76.8700),
    "Callao": ("Callao", -12.0560, -77.1180),
    "Bellavista": ("Callao", -12.0620, -77.1080),
    "La Perla": ("Callao", -12.0680, -77.1120),
    "Ventanilla": ("Callao", -11.8750, -77.1270),
}
DISTRICTS = list(LIMA_DISTRICTS)
#: Residential weight of each district (denser districts get more customers).
DISTRICT_WEIGHTS = np.array(
    [
        3
        if d in ("San Juan de Lurigancho", "Santiago de Surco", "Los Olivos", "Ate", "Comas")
        else 2
        if LIMA_DISTRICTS[d][0] in ("Lima Moderna", "Lima Norte")
        else 1
        for d in DISTRICTS
    ],
    dtype=float,
)
DISTRICT_WEIGHTS /= DISTRICT_WEIGHTS.sum()
EMAIL_DOMAINS = np.array(["gmail.com", "hotmail.com", "outlook.com", "yahoo.es", "pucp.edu.pe"])


@dataclass(frozen=True)
class Pools:
    first_names: np.ndarray
    last_names: np.ndarray
    streets: np.ndarray
    companies: np.ndarray


def _ascii_local(name: str) -> str:
    table = str.maketrans("áéíóúüñÁÉÍÓÚÜÑ ", "aeiouunAEIOUUN.")
    return name.translate(table).lower()


@lru_cache(maxsize=8)
def build_pools(seed: int, locale: str) -> Pools:
    """Deterministic pools for (seed, locale)."""
    fake = Faker(locale)
    fake.seed_instance(seed)
    first = sorted({fake.first_name() for _ in range(600)})
    last = sorted({fake.last_name() for _ in range(600)})
    streets = sorted({fake.street_name() for _ in range(800)})
    companies = sorted({fake.company() for _ in range(800)})
    return Pools(
        first_names=np.array(first, dtype=object),
        last_names=np.array(last, dtype=object),
        streets=np.array(streets, dtype=object),
        companies=np.array(companies, dtype=object),
    )


def email_local_parts(first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """'María', 'Pérez' -> 'maria.perez' (vectorized over unique names)."""
    f_unique, f_inv = np.unique(first, return_inverse=True)
    l_unique, l_inv = np.unique(last, return_inverse=True)
    f_ascii = np.array([_ascii_local(x) for x in f_unique], dtype=object)
    l_ascii = np.array([_ascii_local(x) for x in l_unique], dtype=object)
    return f_ascii[f_inv] + "." + l_ascii[l_inv]
