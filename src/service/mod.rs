pub mod audit;
pub mod input;
pub mod tokens;
